use curator::llm::*;
use std::time::Instant;
#[test]
fn measure() {
    let t = Instant::now();
    let mut m = LlamaCppModel::load(&default_model_path(), &Default::default()).unwrap();
    eprintln!("first load {:.0} ms", t.elapsed().as_secs_f64()*1e3);
    for fa in [false, true] {
        let mut mm = LlamaCppModel::load(&default_model_path(), &LlamaOptions { flash_attention: fa, ..Default::default() }).unwrap();
        let r = measure_throughput(&mut mm, 3).unwrap();
        eprintln!("fa {fa}: prompt {:.0} tok/s gen {:.0} tok/s", r.prompt_tokens_per_second, r.generation_tokens_per_second);
    }
    let prompt = m.apply_chat_template(&bench_messages()).unwrap() + "1. ";
    let titles = ["Alien (1979)", "Aliens (1986)", "The Thing (1982)", "Arrival (2016)", "Blade Runner (1982)", "The Fly (1986)", "Predator (1987)", "Moon (2009)", "Sunshine (2007)", "Event Horizon (1997)"];
    m.reset_cache();
    let t = Instant::now();
    for ti in titles { m.continuation_logprobs(&prompt, &format!("{ti}\n")).unwrap(); }
    eprintln!("warm-prefix scoring: {:.1} ms per title (incl. first prompt pass)", t.elapsed().as_secs_f64()*1e3/titles.len() as f64);
    let t = Instant::now();
    for ti in titles { m.continuation_logprobs(&prompt, &format!("{ti}\n")).unwrap(); }
    eprintln!("warm-prefix scoring: {:.1} ms per title (prompt cached)", t.elapsed().as_secs_f64()*1e3/titles.len() as f64);
    let t = Instant::now();
    for ti in titles { m.reset_cache(); m.continuation_logprobs(&prompt, &format!("{ti}\n")).unwrap(); }
    eprintln!("cold scoring: {:.1} ms per title", t.elapsed().as_secs_f64()*1e3/titles.len() as f64);
}
