//! The HTTP API's request decoding on arbitrary bytes, the first byte choosing the endpoint:
//! `/v1/chat/completions`, `/v1/recommend` or `/v1/feedback` bodies decoded and checked as the
//! handlers do before touching any state; every refusal must be a 4xx with a message.
#![no_main]

use curator::server::{check_body, Endpoint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let endpoint = match which % 3 {
        0 => Endpoint::ChatCompletions,
        1 => Endpoint::Recommend,
        _ => Endpoint::Feedback,
    };
    if let Err(e) = check_body(endpoint, body) {
        assert!(e.status().is_client_error(), "{endpoint:?}: {e} is not a 4xx");
        assert!(!e.to_string().is_empty());
        let _ = e.body();
    }
});
