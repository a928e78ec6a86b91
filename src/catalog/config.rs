//! `catalog.yaml`: what a catalog's items are called and which fields they have, so that nothing
//! above the catalog assumes movies. The format is documented in `catalogs/README.md`.
//!
//! A catalog folder without `catalog.yaml` is the ReDial movies catalog ([`CatalogConfig::movies`]).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// File name of a catalog's configuration inside its folder.
pub const CONFIG_FILE: &str = "catalog.yaml";

/// One role of the people attached to items (at most three per catalog). The first role is
/// stored as the item's main creator (the graph's `director` relation), the second as its
/// `writer`, the third as its performers (`actor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// The key used in `items.jsonl` `people` ("director", "designer", "author").
    pub role: String,
    /// How a reason names the relation, followed by the person: "directed by", "designed by".
    pub by: String,
}

/// A catalog's `catalog.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// Catalog name: the folder under `catalogs/` and `knowledge/` (lowercase letters, digits,
    /// `-`, `_`).
    pub name: String,
    /// The item noun, singular ("movie", "board game").
    pub item: String,
    /// The item noun, plural (default: `item` + "s").
    #[serde(default)]
    pub items: Option<String>,
    /// The roles of `people` in `items.jsonl`, in the order creator, writer, performer (≤ 3).
    #[serde(default)]
    pub people: Vec<Role>,
    /// What the items' `categories` are called in replies ("genre", "category").
    #[serde(default = "default_category")]
    pub category: String,
    /// One sentence on what the recommender does, for prompts ("You recommend movies.").
    #[serde(default)]
    pub description: Option<String>,
    /// What one does with an item, base form, for replies ("you'll watch X"; "play", "read");
    /// absent: "watch" ([`CatalogConfig::verb`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    /// Its past participle ("you've seen X"; "played", "read"); absent: "seen"
    /// ([`CatalogConfig::verb_past`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb_past: Option<String>,
}

fn default_category() -> String {
    "category".into()
}

impl CatalogConfig {
    /// The ReDial movies catalog's configuration (used when a catalog has no `catalog.yaml`).
    pub fn movies() -> Self {
        let role = |r: &str, by: &str| Role { role: r.into(), by: by.into() };
        CatalogConfig {
            name: "movies".into(),
            item: "movie".into(),
            items: Some("movies".into()),
            people: vec![role("director", "directed by"), role("writer", "written by"), role("star", "starring")],
            category: "genre".into(),
            description: None,
            verb: None,
            verb_past: None,
        }
    }

    /// What one does with an item, base form: `verb`, else "watch" (the movies' word).
    pub fn verb(&self) -> &str {
        self.verb.as_deref().unwrap_or("watch")
    }

    /// The verb's past participle: `verb_past`, else "seen" (the movies' word).
    pub fn verb_past(&self) -> &str {
        self.verb_past.as_deref().unwrap_or("seen")
    }

    /// Whether this is the ReDial movies catalog's wording (reasons may name ReDial and TMDB).
    pub fn is_movies(&self) -> bool {
        self.name == "movies"
    }

    /// How a reason names the person slot `slot` (0 creator, 1 writer, 2 performer): the
    /// declared role's `by` ("designed by"), or "by" when the catalog declares no such role.
    pub fn by(&self, slot: usize) -> &str {
        self.people.get(slot).map(|r| r.by.as_str()).unwrap_or("by")
    }

    /// The variables prompts may use: `item`, `items`, `category`, `verb`, `verb_past`.
    pub fn prompt_vars(&self) -> minijinja::Value {
        minijinja::context! {
            item => self.item.clone(),
            items => self.items_noun(),
            category => self.category.clone(),
            verb => self.verb().to_string(),
            verb_past => self.verb_past().to_string(),
        }
    }

    /// The plural item noun.
    pub fn items_noun(&self) -> String {
        self.items.clone().unwrap_or_else(|| format!("{}s", self.item))
    }

    /// Reads `dir/catalog.yaml`, or [`CatalogConfig::movies`] when the file does not exist.
    ///
    /// Errors: [`Error::Io`] for an unreadable file; [`Error::Parse`] naming the file, the line
    /// and the field for malformed YAML, an unknown field or an invalid value.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(CONFIG_FILE);
        if !path.exists() {
            return Ok(Self::movies());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        Self::parse(&path, &text)
    }

    /// Parses and validates the text of a `catalog.yaml` read from `path` (named in errors).
    ///
    /// Errors: [`Error::Parse`] with the line (and field) of the first problem.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let de = serde_yaml::Deserializer::from_str(text);
        let config: CatalogConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let line = e.inner().location().map(|l| l.line()).unwrap_or(0);
            let field = e.path().to_string();
            let msg = e.inner().to_string();
            if field == "." {
                Error::parse(path, line, msg)
            } else {
                Error::parse(path, line, format!("field `{field}`: {msg}"))
            }
        })?;
        config.validate().map_err(|m| Error::parse(path, 0, m))?;
        Ok(config)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if !valid_name(&self.name) {
            return Err(format!("field `name`: {:?} must be 1–40 lowercase letters, digits, '-' or '_'", self.name));
        }
        if self.item.trim().is_empty() {
            return Err("field `item`: the item noun must not be empty".into());
        }
        for (field, v) in [("verb", &self.verb), ("verb_past", &self.verb_past)] {
            if v.as_ref().is_some_and(|v| v.trim().is_empty()) {
                return Err(format!("field `{field}`: must not be empty when given"));
            }
        }
        if self.people.len() > 3 {
            return Err(format!("field `people`: at most 3 roles, got {}", self.people.len()));
        }
        for (i, r) in self.people.iter().enumerate() {
            if r.role.trim().is_empty() || r.by.trim().is_empty() {
                return Err(format!("field `people[{i}]`: `role` and `by` must not be empty"));
            }
            if self.people[..i].iter().any(|o| o.role == r.role) {
                return Err(format!("field `people[{i}].role`: {:?} is listed twice", r.role));
            }
        }
        Ok(())
    }
}

pub use crate::paths::valid_catalog_name as valid_name;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line_and_field() {
        let p = Path::new("games/catalog.yaml");
        let err = CatalogConfig::parse(p, "name: games\nitem: game\nitemz: x\n").unwrap_err().to_string();
        assert!(err.contains("games/catalog.yaml:3") && err.contains("itemz"), "{err}");
        let err = CatalogConfig::parse(p, "name: Games!\nitem: game\n").unwrap_err().to_string();
        assert!(err.contains("field `name`"), "{err}");
        let err =
            CatalogConfig::parse(p, "name: g\nitem: game\npeople:\n  - role: designer\n").unwrap_err().to_string();
        assert!(err.contains(":4") && err.contains("people[0]") && err.contains("by"), "{err}");
        let ok = CatalogConfig::parse(p, "name: g\nitem: board game\n").unwrap();
        assert_eq!(ok.items_noun(), "board games");
        assert_eq!(ok.category, "category");
    }
}
