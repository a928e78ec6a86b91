//! Prompts loaded from `prompts/*.yaml`, rendered with minijinja.

use std::path::Path;

use serde::Deserialize;

use crate::catalog::config::CatalogConfig;
use crate::{Error, Result};

/// The prompts of one recommendation turn (`prompts/recommend.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendPrompts {
    /// System message for the LLM.
    pub system: String,
    /// Template of each seeker message as the model sees it, this turn's and earlier ones (so
    /// that earlier turns render the same and their cached keys and values are reused).
    /// Variable: `user` (the seeker's text). When the model cannot decode under a constraint it
    /// only writes the opening sentence, and `liked`, `disliked` (comma-separated titles),
    /// `count` and `genres` are also set.
    pub intro: String,
    /// Opening used when no model is loaded or the model's sentence is rejected.
    pub fallback_intro: String,
    /// Opening used instead of `fallback_intro` when the previous reply opened with it (no
    /// opening is said twice in a row).
    pub alternate_intro: String,
    /// Opening after a vague message ("hi", "recommend something": nothing in the state says
    /// what the seeker wants): one short question, leading into a few broadly liked picks.
    pub question: String,
    /// Reply when no candidate is left to recommend.
    pub no_results: String,
    /// Closing line after the list.
    pub closing: String,
}

impl RecommendPrompts {
    /// Loads `recommend.yaml` from `dir`.
    ///
    /// Errors: [`Error::Io`] if unreadable; [`Error::Parse`] naming the line and field when the
    /// YAML is malformed, a field is missing or unknown, or a template does not compile.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("recommend.yaml");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let p: RecommendPrompts = serde_yaml::from_str(&text).map_err(|e| {
            let line = e.location().map(|l| l.line()).unwrap_or(0);
            Error::parse(&path, line, e.to_string())
        })?;
        let env = minijinja::Environment::new();
        env.template_from_str(&p.intro)
            .map_err(|e| Error::parse(&path, e.line().unwrap_or(0), format!("field `intro`: {e}")))?;
        // The other fields are templates over the catalog's nouns: check that they render.
        p.for_catalog(&CatalogConfig::movies()).map_err(|e| Error::parse(&path, 0, e.to_string()))?;
        Ok(p)
    }

    /// The prompts with the catalog's words filled in: `system`, `fallback_intro`,
    /// `alternate_intro`, `question`, `no_results` and `closing` are templates over `item`, `items` and
    /// `category` ([`CatalogConfig::prompt_vars`]); `intro` keeps its per-turn variables.
    ///
    /// Errors: [`Error::InvalidInput`] naming the field whose template does not render.
    pub fn for_catalog(&self, config: &CatalogConfig) -> Result<Self> {
        let env = minijinja::Environment::new();
        let vars = config.prompt_vars();
        let render = |name: &str, t: &str| {
            env.render_str(t, vars.clone()).map_err(|e| Error::InvalidInput(format!("prompt `{name}`: {e}")))
        };
        Ok(RecommendPrompts {
            system: render("system", &self.system)?,
            intro: self.intro.clone(),
            fallback_intro: render("fallback_intro", &self.fallback_intro)?,
            alternate_intro: render("alternate_intro", &self.alternate_intro)?,
            question: render("question", &self.question)?,
            no_results: render("no_results", &self.no_results)?,
            closing: render("closing", &self.closing)?,
        })
    }

    /// Renders the `intro` template.
    ///
    /// Errors: [`Error::InvalidInput`] if rendering fails.
    pub fn render_intro(&self, ctx: minijinja::Value) -> Result<String> {
        let env = minijinja::Environment::new();
        env.render_str(&self.intro, ctx).map_err(|e| Error::InvalidInput(format!("prompt `intro`: {e}")))
    }
}
