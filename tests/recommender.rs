//! The collaborative recommenders: one conformance suite run against every model (popularity,
//! item-kNN, EASE^R) trained on the real ReDial training interactions, EASE^R against a
//! hand-checked 3-item matrix, and the model file's round trip and damage detection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use curator::catalog::{Catalog, Item, ItemId};
use curator::recommender::fit::{Gram, SoftmaxTrainer};
use curator::recommender::{Feedback, ItemModel, ModelSpec, RecState, Recommender};
use curator::train::interactions::{self, DataMix, Session, Source};
use curator::Error;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn source() -> PathBuf {
    root().join("../shared/data")
}

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| Catalog::load(&root().join("catalogs/movies")).unwrap())
}

/// Popularity, item-kNN, EASE^R, role-aware item-kNN, the item-kNN + EASE^R blend and the SLIT
/// transition and softmax item-kNN models trained on the real ReDial + INSPIRED training
/// dialogues.
fn real_models() -> &'static Vec<ItemModel> {
    static M: OnceLock<Vec<ItemModel>> = OnceLock::new();
    M.get_or_init(|| {
        let data = interactions::load(&source(), catalog(), DataMix::DIALOGUES, &HashSet::new()).unwrap();
        let gram = Gram::new(catalog(), &data.sessions, 0.0, false);
        let roles = Gram::with_roles(catalog(), &data.sessions, 0.0, false, 1.0, 0.5);
        vec![
            gram.popularity_model(),
            gram.item_knn(0.5, 0.0, 100),
            gram.ease(50.0, 100).unwrap(),
            roles.item_knn(0.15, 0.0, 100),
            gram.blend(0.5, 0.0, 50.0, 0.5, 100).unwrap(),
            gram.transition(catalog(), &data.sessions, 3000.0, 0.85, 100).unwrap(),
            gram.softmax(catalog(), &data.sessions, 0.15, 0.85, 0.05, 0.01, 1, 100).unwrap(),
        ]
    })
}

fn id_of(title: &str, year: u16) -> ItemId {
    catalog().items().iter().find(|i| i.title == title && i.year == Some(year)).unwrap().id
}

#[test]
fn real_interaction_counts() {
    let data = interactions::load(&source(), catalog(), DataMix::WITH_MOVIELENS, &HashSet::new()).unwrap();
    let c = &data.counts;
    // 9,996 training dialogues at movie level; 3 mention no catalog item (data build: 9,993 used).
    assert_eq!(c.redial_dialogues, 9996);
    assert_eq!(c.redial_sessions, 9993);
    assert_eq!(c.inspired_dialogues, 801);
    assert!(c.inspired_sessions > 500, "{c:?}");
    // 610 MovieLens users, nearly all with a linked rating ≥ 4.
    assert!(c.movielens_sessions > 600 && c.movielens_sessions <= 610, "{c:?}");
    let redial = data.sessions.iter().filter(|s| s.source == Source::Redial).count();
    assert_eq!(redial, c.redial_sessions + c.redial_text_sessions);
    // Excluding dialogues by conversation id removes them.
    let exclude: HashSet<String> = ["391".to_string()].into_iter().collect();
    let less = interactions::load(&source(), catalog(), DataMix::DIALOGUES, &exclude).unwrap();
    assert_eq!(less.counts.redial_dialogues, 9995);
}

#[test]
fn conformance_excludes_state_items() {
    let heat = id_of("Heat", 1995);
    let matrix = id_of("The Matrix", 1999);
    let titanic = id_of("Titanic", 1997);
    let state = RecState::from_lists(&[heat], &[titanic], &[matrix]);
    for m in real_models() {
        let out = m.recommend_candidates(&state, 200).unwrap();
        assert_eq!(out.len(), 200, "{}", m.name());
        for c in &out {
            assert!(![heat, matrix, titanic].contains(&c.id), "{} returned state item {}", m.name(), c.id);
        }
        // Best first.
        assert!(out.windows(2).all(|w| w[0].score >= w[1].score), "{}", m.name());
        let ids: HashSet<ItemId> = out.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), out.len(), "{} repeats an item", m.name());
    }
}

#[test]
fn conformance_is_deterministic() {
    let state = RecState::from_lists(&[id_of("Heat", 1995), id_of("The Notebook", 2004)], &[], &[]);
    for m in real_models() {
        let a = m.recommend_candidates(&state, 50).unwrap();
        let b = m.recommend_candidates(&state, 50).unwrap();
        assert_eq!(a, b, "{}", m.name());
        assert_eq!(m.clone().recommend_candidates(&state, 50).unwrap(), a);
    }
}

#[test]
fn conformance_empty_state_gives_popularity_order() {
    let most_popular = catalog().items().iter().max_by_key(|i| (i.popularity, std::cmp::Reverse(i.id))).unwrap();
    for m in real_models() {
        let out = m.recommend_candidates(&RecState::new(), 10).unwrap();
        assert_eq!(out.len(), 10, "{}", m.name());
        // With no seeds every collaborative score is 0: ties break by training popularity.
        assert_eq!(out[0].id, most_popular.id, "{}", m.name());
        assert!(m.recommend_candidates(&RecState::new(), 0).unwrap().is_empty());
    }
}

#[test]
fn conformance_unknown_ids_are_clear_errors() {
    let mut state = RecState::from_lists(&[id_of("Heat", 1995)], &[], &[]);
    state.push(999_999_999, Feedback::Liked, 1.0);
    for m in real_models() {
        match m.recommend_candidates(&state, 10) {
            Err(Error::InvalidInput(msg)) => assert!(msg.contains("999999999"), "{msg}"),
            other => panic!("{}: expected InvalidInput, got {other:?}", m.name()),
        }
    }
}

#[test]
fn conformance_asking_for_more_than_the_catalog_returns_every_other_item() {
    let state = RecState::from_lists(&[id_of("Heat", 1995)], &[], &[]);
    for m in real_models() {
        let out = m.recommend_candidates(&state, 100_000).unwrap();
        assert_eq!(out.len(), catalog().len() - 1, "{}", m.name());
    }
}

#[test]
fn collaborative_models_follow_the_seed() {
    // Liking the first two Toy Story films: the third (or the other of the pair) comes high.
    let ts = id_of("Toy Story", 1995);
    let ts2 = id_of("Toy Story 2", 1999);
    let ts3 = id_of("Toy Story 3", 2010);
    let state = RecState::from_lists(&[ts, ts2], &[], &[]);
    for m in &real_models()[1..] {
        let out = m.recommend_candidates(&state, 10).unwrap();
        assert!(out.iter().any(|c| c.id == ts3), "{}: Toy Story 3 not in the top 10", m.name());
        assert!(out[0].score > 0.0);
    }
}

fn tiny_item(id: ItemId, title: &str, popularity: u32) -> Item {
    Item {
        id,
        title: title.to_string(),
        year: Some(2000),
        genres: Vec::new(),
        directors: Vec::new(),
        writers: Vec::new(),
        stars: Vec::new(),
        plot: String::new(),
        imdb_id: None,
        popularity,
    }
}

/// A ReDial session over catalog positions `items`, in mention order, each with weight 1.
fn redial_session(items: &[u32]) -> Session {
    Session { source: Source::Redial, items: items.iter().map(|&p| (p, 1.0)).collect(), seeker_only: Vec::new() }
}

/// Items 10 (Alpha), 20 (Beta), 30 (Gamma) and the ReDial sessions {0,1}, {1,2}, {0,1,2} over
/// their indices: the hand-checked data of the EASE, blend, transition and mixing tests.
fn three_items() -> (Catalog, Vec<Session>) {
    let cat = Catalog::from_items(vec![tiny_item(10, "Alpha", 2), tiny_item(20, "Beta", 3), tiny_item(30, "Gamma", 2)])
        .unwrap();
    (cat, vec![redial_session(&[0, 1]), redial_session(&[1, 2]), redial_session(&[0, 1, 2])])
}

/// Sessions {0,1}, {1,2}, {0,1,2} over items 10, 20, 30: G = XᵀX = [[2,2,1],[2,3,2],[1,2,2]].
/// With λ = 1, P = (G + I)⁻¹ = [[8,−4,0],[−4,8,−4],[0,−4,8]] / 16 (det 16, by cofactors), so
/// B = −P / diag(P) column-wise: B[0,1] = B[1,0] = B[1,2] = B[2,1] = ½ and B[0,2] = B[2,0] = 0.
#[test]
fn ease_matches_the_hand_computed_matrix() {
    let (cat, sessions) = three_items();
    let model = Gram::new(&cat, &sessions, 0.0, false).ease(1.0, 10).unwrap();
    let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
    assert!(close(model.weight(10, 20), 0.5), "{}", model.weight(10, 20));
    assert!(close(model.weight(20, 10), 0.5));
    assert!(close(model.weight(20, 30), 0.5));
    assert!(close(model.weight(30, 20), 0.5));
    assert_eq!(model.weight(10, 30), 0.0);
    assert_eq!(model.weight(10, 10), 0.0);
    // Liking Alpha: Beta scores ½, Gamma 0 (after Beta).
    let out = model.recommend_candidates(&RecState::from_lists(&[10], &[], &[]), 5).unwrap();
    assert_eq!(out.iter().map(|c| c.id).collect::<Vec<_>>(), vec![20, 30]);
    assert!(close(out[0].score, 0.5));
    // Item-kNN (cosine, β = ½) on the same data: G[0,1] / √(2·3).
    let knn = Gram::new(&cat, &sessions, 0.0, false).item_knn(0.5, 0.0, 10);
    assert!(close(knn.weight(10, 20), 2.0 / 6f32.sqrt()));
    assert!(close(knn.weight(10, 30), 0.5));
    assert!(Gram::new(&cat, &sessions, 0.0, false).ease(0.0, 10).is_err());
}

/// Role-aware item-kNN: sessions [A, B] (B mentioned only by the seeker) and [A, B]; with
/// seeker weight ½, β = 0 and no shrink, B[A, B] = (½ + 1) / √2 (rows keep the role-free norm
/// Σx² = 2) and B[B, A] = 2 / √2 (A is never seeker-only).
#[test]
fn role_aware_knn_weighs_seeker_only_candidates() {
    let cat = Catalog::from_items(vec![tiny_item(10, "Alpha", 2), tiny_item(20, "Beta", 2)]).unwrap();
    let sessions = vec![
        Session { source: Source::Redial, items: vec![(0, 1.0), (1, 1.0)], seeker_only: vec![1] },
        Session { source: Source::Redial, items: vec![(0, 1.0), (1, 1.0)], seeker_only: Vec::new() },
    ];
    let knn = Gram::with_roles(&cat, &sessions, 0.0, false, 1.0, 0.5).item_knn(0.0, 0.0, 10);
    let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
    assert!(close(knn.weight(10, 20), 1.5 / 2f32.sqrt()), "{}", knn.weight(10, 20));
    assert!(close(knn.weight(20, 10), 2.0 / 2f32.sqrt()), "{}", knn.weight(20, 10));
    // Roles ignored (seeker weight 1): symmetric.
    let plain = Gram::with_roles(&cat, &sessions, 0.0, false, 1.0, 1.0).item_knn(0.0, 0.0, 10);
    assert!(close(plain.weight(10, 20), plain.weight(20, 10)));
    // EASE needs the symmetric matrix.
    assert!(Gram::with_roles(&cat, &sessions, 0.0, false, 1.0, 0.5).ease(1.0, 10).is_err());
}

/// The blend on the 3-item data of the EASE test: item-kNN (β ½) rows all peak at 2/√6 and EASE
/// (λ 1) rows at ½, so with share ½: B[A, B] = ½·1 + ½·1 = 1 and B[A, C] = ½·(½ / (2/√6)) + 0.
#[test]
fn blend_matches_the_hand_computed_matrix() {
    let (cat, sessions) = three_items();
    let gram = Gram::new(&cat, &sessions, 0.0, false);
    let blend = gram.blend(0.5, 0.0, 1.0, 0.5, 10).unwrap();
    let close = |a: f32, b: f32| (a - b).abs() < 1e-5;
    assert!(close(blend.weight(10, 20), 1.0), "{}", blend.weight(10, 20));
    assert!(close(blend.weight(10, 30), 0.5 * 0.5 / (2.0 / 6f32.sqrt())), "{}", blend.weight(10, 30));
    // Share 0 is item-kNN rescaled by its row peak; out-of-range shares are refused.
    let knn = gram.item_knn(0.5, 0.0, 10);
    let only_knn = gram.blend(0.5, 0.0, 1.0, 0.0, 10).unwrap();
    assert!(close(only_knn.weight(10, 30), knn.weight(10, 30) / (2.0 / 6f32.sqrt())));
    assert!(gram.blend(0.5, 0.0, 1.0, 1.5, 10).is_err());
    assert!(Gram::new(&cat, &sessions, 0.0, true).blend(0.5, 0.0, 1.0, 0.5, 10).is_err());
}

/// The transition model on the 3-item data with decay 1: targets (context → item) are
/// A → B, B → C, A → B and A + B → C, so S = [[3,1,0],[1,2,0],[0,0,0]] and T has T[A,B] = 2,
/// T[A,C] = 1, T[B,C] = 2. With λ = 1, (S + I)⁻¹ = [[3,−1,0],[−1,4,0],[0,0,11]] / 11, so
/// B = (S + I)⁻¹T gives B[A,B] = 6/11, B[A,C] = (3 − 2)/11 = 1/11, B[B,C] = (−1 + 8)/11 = 7/11,
/// and nothing leads back to A.
#[test]
fn transition_matches_the_hand_computed_matrix() {
    let (cat, sessions) = three_items();
    let gram = Gram::new(&cat, &sessions, 0.0, false);
    let model = gram.transition(&cat, &sessions, 1.0, 1.0, 10).unwrap();
    let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
    assert!(close(model.weight(10, 20), 6.0 / 11.0), "{}", model.weight(10, 20));
    assert!(close(model.weight(10, 30), 1.0 / 11.0), "{}", model.weight(10, 30));
    assert!(close(model.weight(20, 30), 7.0 / 11.0), "{}", model.weight(20, 30));
    assert_eq!(model.weight(20, 10), 0.0);
    assert_eq!(model.weight(30, 10), 0.0);
    let out = model.recommend_candidates(&RecState::from_lists(&[10], &[], &[]), 5).unwrap();
    assert_eq!(out.iter().map(|c| c.id).collect::<Vec<_>>(), vec![20, 30]);
    // A seeker-only item is never a target: with B seeker-only in the first session, T[A,B]
    // drops to 1 and S to [[2,1,0],[1,2,0],…]: (S + I)⁻¹ = [[3,−1],[−1,3]] / 8, B[A,B] = 3/8.
    let mut roles = sessions.clone();
    roles[0].seeker_only = vec![1];
    let model = Gram::new(&cat, &roles, 0.0, false).transition(&cat, &roles, 1.0, 1.0, 10).unwrap();
    assert!(close(model.weight(10, 20), 3.0 / 8.0), "{}", model.weight(10, 20));
    // Bad hyperparameters are named.
    for (lambda, decay) in [(0.0, 1.0), (f32::NAN, 1.0), (1.0, 0.0), (1.0, 1.5)] {
        let e = gram.transition(&cat, &sessions, lambda, decay, 10).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e}");
    }
}

/// Mixing two models: each part is divided by the mean of its rows' largest weight. Item-kNN
/// (β ½) rows all peak at 2/√6; the transition rows of A and B peak at 6/11 and 7/11 (C's row is
/// empty and does not count), mean 13/22. With share ½, B[A,C] = ½·½/(2/√6) + ½·(1/11)/(13/22).
#[test]
fn mixed_models_are_rescaled_and_checked() {
    let (cat, sessions) = three_items();
    let gram = Gram::new(&cat, &sessions, 0.0, false);
    let knn = gram.item_knn(0.5, 0.0, 10);
    let transition = gram.transition(&cat, &sessions, 1.0, 1.0, 10).unwrap();
    let spec =
        curator::recommender::ModelSpec::KnnTransition { beta: 0.5, shrink: 0.0, lambda: 1.0, decay: 1.0, share: 0.5 };
    let mixed = knn.mixed(&transition, 0.5, spec, 10).unwrap();
    let want = 0.5 * 0.5 / (2.0 / 6f32.sqrt()) + 0.5 * (1.0 / 11.0) / (13.0 / 22.0);
    assert!((mixed.weight(10, 30) - want).abs() < 1e-5, "{} vs {want}", mixed.weight(10, 30));
    assert_eq!(mixed.info().spec, spec);
    // The same through `Gram::train`.
    let trained = gram.train(spec, 10, &cat, &sessions).unwrap();
    assert!((trained.weight(10, 30) - want).abs() < 1e-5);
    assert!(knn.mixed(&transition, 1.5, spec, 10).is_err());
    let other = Catalog::from_items(vec![tiny_item(10, "Alpha", 2), tiny_item(20, "Beta", 3)]).unwrap();
    let two = Gram::new(&other, &sessions[..1], 0.0, false).item_knn(0.5, 0.0, 10);
    assert!(knn.mixed(&two, 0.5, spec, 10).is_err());
}

/// The softmax item-kNN model on sessions A B, A B, A C (β 0): every instance has context A, so
/// the prior row of A is `B[A,B] = 2/√3`, `B[A,C] = 1/√3` (G[A,B] = 2, G[A,C] = 1, three
/// sessions hold A). Over s ∈ {¼ … 256} the training loss `−2 ln p_B − ln p_C` with
/// `p_B = σ(s/√3)` is lowest at s = 1 (1.913 nats; 1.966 at ½, 1.976 at 2). Each SGD step
/// moves `B[A,B]` and `B[A,C]` by opposite amounts, so their sum stays √3, and maximum
/// likelihood (`p_B = ⅔`) puts their difference at ln 2: `B[A,B] = (√3 + ln 2)/2`,
/// `B[A,C] = (√3 − ln 2)/2`.
#[test]
fn softmax_knn_reaches_the_hand_computed_maximum_likelihood() {
    let cat = Catalog::from_items(vec![tiny_item(10, "Alpha", 3), tiny_item(20, "Beta", 2), tiny_item(30, "Gamma", 1)])
        .unwrap();
    let sessions = vec![redial_session(&[0, 1]), redial_session(&[0, 1]), redial_session(&[0, 2])];
    let gram = Gram::new(&cat, &sessions, 0.0, false);
    let mut trainer = SoftmaxTrainer::new(&gram, &cat, &sessions, 0.0, 0.85).unwrap();
    assert_eq!(trainer.instances(), 3);
    assert_eq!(trainer.scale(), 1.0);
    let start = trainer.model(0.01, 0.0, 10);
    let close = |a: f32, b: f32, tol: f32| (a - b).abs() < tol;
    assert!(close(start.weight(10, 20), 2.0 / 3f32.sqrt(), 1e-6), "{}", start.weight(10, 20));
    assert!(close(start.weight(10, 30), 1.0 / 3f32.sqrt(), 1e-6), "{}", start.weight(10, 30));
    let mut first = f64::NAN;
    let mut last = f64::NAN;
    for e in 0..2000 {
        last = trainer.epoch(0.01, 0.0).unwrap();
        if e == 0 {
            first = last;
        }
    }
    assert!(last < first, "training loss {first} → {last}");
    // −ln(⅔)·2 − ln(⅓) over 3 instances: the minimum mean loss.
    let floor = (-(2.0f64 / 3.0).ln() * 2.0 - (1.0f64 / 3.0).ln()) / 3.0;
    // The epoch's running loss sits O(lr) above it (each instance is scored after the others'
    // steps); the loss of the trained weights is at it.
    assert!(last > floor && last - floor < 0.01, "{last} vs {floor}");
    assert!((trainer.loss() - floor).abs() < 1e-4, "{} vs {floor}", trainer.loss());
    let model = trainer.model(0.01, 0.0, 10);
    let (sum, ln2) = (3f32.sqrt(), 2f32.ln());
    assert!(close(model.weight(10, 20), (sum + ln2) / 2.0, 0.02), "{}", model.weight(10, 20));
    assert!(close(model.weight(10, 30), (sum - ln2) / 2.0, 0.02), "{}", model.weight(10, 30));
    assert_eq!(model.info().spec, ModelSpec::Softmax { beta: 0.0, decay: 0.85, lr: 0.01, l2: 0.0, epochs: 2000 });
    // A strong pull toward the prior keeps B near it.
    let mut held = SoftmaxTrainer::new(&gram, &cat, &sessions, 0.0, 0.85).unwrap();
    for _ in 0..200 {
        held.epoch(0.01, 50.0).unwrap();
    }
    assert!(close(held.model(0.01, 50.0, 10).weight(10, 20), 2.0 / 3f32.sqrt(), 0.01));
    // The same through `Gram::train`, reproducibly.
    let spec = ModelSpec::Softmax { beta: 0.0, decay: 0.85, lr: 0.01, l2: 0.0, epochs: 3 };
    assert_eq!(gram.train(spec, 10, &cat, &sessions).unwrap(), gram.train(spec, 10, &cat, &sessions).unwrap());
    // Bad inputs are named.
    for (beta, decay) in [(-1.0, 0.85), (f32::NAN, 0.85), (0.0, 0.0), (0.0, 1.5)] {
        let e = SoftmaxTrainer::new(&gram, &cat, &sessions, beta, decay).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e}");
    }
    for (lr, l2) in [(0.0, 0.0), (f32::INFINITY, 0.0), (0.01, -1.0), (0.1, 10.0)] {
        assert!(matches!(trainer.epoch(lr, l2), Err(Error::InvalidInput(_))));
    }
    let bm25 = Gram::new(&cat, &sessions, 0.0, true);
    assert!(SoftmaxTrainer::new(&bm25, &cat, &sessions, 0.0, 0.85).is_err());
    let single = vec![redial_session(&[0])];
    let lonely = Gram::new(&cat, &single, 0.0, false);
    let e = SoftmaxTrainer::new(&lonely, &cat, &single, 0.0, 0.85).unwrap_err();
    assert!(e.to_string().contains("no training instance"), "{e}");
}

#[test]
fn model_file_round_trips_and_detects_damage() {
    let dir = tempfile::tempdir().unwrap();
    for m in real_models() {
        let path = dir.path().join(format!("{}.bin", m.name().replace('+', "-")));
        m.save(&path).unwrap();
        let back = ItemModel::load(&path).unwrap();
        assert_eq!(&back, m);
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        assert!(matches!(ItemModel::from_bytes(&bytes, &path), Err(Error::Parse { .. })));
        assert!(ItemModel::from_bytes(&bytes[..bytes.len() / 3], &path).is_err());
        assert!(ItemModel::from_bytes(b"hello", &path).is_err());
    }
    assert!(matches!(ItemModel::load(Path::new("/nonexistent/recommender.bin")), Err(Error::Missing(_))));
}

#[test]
fn committed_model_loads_and_covers_the_catalog() {
    let path = root().join("catalogs/movies/recommender.bin");
    let model = ItemModel::load(&path).unwrap();
    assert_eq!(model.len(), catalog().len());
    assert!(model.entries() > 100_000);
    let out = model.recommend_candidates(&RecState::from_lists(&[id_of("Heat", 1995)], &[], &[]), 200).unwrap();
    assert_eq!(out.len(), 200);
    assert!(out[0].score > 0.0);
    model.check_covers(catalog(), &path).unwrap();
    // A model trained for another catalog is refused, naming the file and a missing item.
    let (cat, sessions) = three_items();
    let other = Gram::new(&cat, &sessions, 0.0, false).item_knn(0.5, 0.0, 10);
    let e = other.check_covers(catalog(), &path).unwrap_err().to_string();
    assert!(e.contains("recommender.bin") && e.contains("another catalog") && e.contains("3 items"), "{e}");
}

/// Session-aware counts: in sessions [A, B] and [A, B, C] with `backward` = 0, A→B counts twice
/// and B→A never; with cosine (β = ½) and no shrink, B[A, B] = 2 / √(2·2) = 1 and B[B, A] = 0.
#[test]
fn session_aware_knn_counts_pairs_in_mention_order() {
    let cat = Catalog::from_items(vec![tiny_item(10, "Alpha", 2), tiny_item(20, "Beta", 2), tiny_item(30, "Gamma", 1)])
        .unwrap();
    let sessions = vec![redial_session(&[0, 1]), redial_session(&[0, 1, 2])];
    let forward = Gram::with_order(&cat, &sessions, 0.0, false, 0.0);
    let knn = forward.item_knn(0.5, 0.0, 10);
    assert!((knn.weight(10, 20) - 1.0).abs() < 1e-6, "{}", knn.weight(10, 20));
    assert_eq!(knn.weight(20, 10), 0.0);
    assert!((knn.weight(20, 30) - 1.0 / 2f32.sqrt()).abs() < 1e-6);
    assert_eq!(knn.weight(30, 20), 0.0);
    // EASE needs the symmetric matrix.
    assert!(matches!(forward.ease(10.0, 10), Err(Error::InvalidInput(_))));
    // backward = 1 is the symmetric co-occurrence.
    let sym = Gram::with_order(&cat, &sessions, 0.0, false, 1.0).item_knn(0.5, 0.0, 10);
    assert_eq!(sym.weight(20, 10), sym.weight(10, 20));
}

/// The fast validation of `curator train recommender` ranks like the agent's tool ranker: same
/// objective and sample count on the first 60 validation dialogues, for the co-mentions and for
/// the committed model; re-tuning never lowers the objective.
#[test]
fn agent_validation_matches_the_tool_ranker() {
    use curator::train;
    use std::sync::Arc;
    let dir = root().join("catalogs/movies");
    let base = Catalog::load(&dir).unwrap();
    let val = train::validation_split(&source(), &root().join("evals/redial/test.jsonl")).unwrap();
    let val = &val[..60];
    let ids: HashSet<String> = val.iter().map(|d| d.conversation_id.clone()).collect();
    let (cat, cf) = train::catalog_without(&source(), &base, &ids).unwrap();
    let cat = Arc::new(cat);
    let w = curator::rank::config::load(&dir.join("ranker.yaml")).unwrap().weights;
    let mut ranker = curator::rank::CandidateRanker::new(&cat, cf.clone(), w);
    let knowledge = curator::assets::load_knowledge(&dir).unwrap();
    if let Some(kt) = &knowledge {
        ranker = ranker.with_knowledge(&cat, kt.clone());
    }
    let tracker = curator::dialogue::Tracker::with_graph(cat.clone(), knowledge.as_ref().map(|kt| &kt.graph));
    let points = curator::eval::extract_points(val);
    let av = train::AgentValidation::new(&tracker, &ranker, cf, &points).unwrap();
    let model = ItemModel::load(&dir.join("recommender.bin")).unwrap();
    for m in [None, Some(&model)] {
        let r = match m {
            Some(m) => ranker.clone().with_model(Arc::new(m.clone())),
            None => ranker.clone(),
        };
        let tools = curator::agent::ToolRanker::new(tracker.clone(), Arc::new(r));
        let (objective, metrics, samples) = curator::tune::objective(&tools, &points);
        let fast = av.score(m.map(|m| m as &dyn Recommender), w.cf, w.popularity).unwrap();
        assert!(samples > 100, "{samples}");
        assert_eq!(fast.recommendations, samples);
        assert!((fast.objective - objective).abs() < 1e-9, "{} vs {objective}", fast.objective);
        assert!((fast.metrics[3] - metrics[3]).abs() < 1e-9);
        let tuned = av.retune(m.map(|m| m as &dyn Recommender)).unwrap();
        assert!(tuned.score.objective >= fast.objective);
    }
}
