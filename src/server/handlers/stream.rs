//! The server-sent event stream of a `stream: true` chat completion: one `chat.completion.chunk`
//! per event of the generation job (role first, then content deltas, the finish reason, the
//! usage when asked for, `[DONE]`); dropping the stream cancels the generation.

use super::*;

/// State of one server-sent event stream.
struct SseStream {
    meta: ReplyMeta,
    rx: UnboundedReceiver<JobEvent>,
    /// Dropped with the stream: a client that disconnects cancels the generation.
    _guard: CancelOnDrop,
    include_usage: bool,
    usage: Usage,
    finish: &'static str,
    pending: VecDeque<String>,
    finished: bool,
}

impl SseStream {
    fn chunk(&self, delta: Delta, finish: Option<&'static str>, recs: Option<Vec<Recommendation>>) -> String {
        let c = ChatCompletionChunk {
            id: self.meta.id.clone(),
            object: "chat.completion.chunk",
            created: self.meta.created,
            model: self.meta.model.clone(),
            choices: vec![ChunkChoice { index: 0, delta, finish_reason: finish, logprobs: None }],
            session_id: self.meta.session_id.clone(),
            recommendations: recs,
            usage: None,
        };
        sse_data(&c)
    }

    fn finish_with_error(&mut self, e: &ApiError) {
        self.pending.push_back(sse_data(&e.body()));
        self.pending.push_back("data: [DONE]\n\n".to_string());
        self.finished = true;
    }

    async fn next_frame(&mut self) -> Option<String> {
        loop {
            if let Some(f) = self.pending.pop_front() {
                return Some(f);
            }
            if self.finished {
                return None;
            }
            match tokio::time::timeout_at(self.meta.deadline, self.rx.recv()).await {
                Err(_) => self.finish_with_error(&ApiError::Timeout(self.meta.timeout_s)),
                Ok(None) => {
                    self.finish_with_error(&ApiError::Internal("the generation worker dropped the request".into()))
                }
                Ok(Some(JobEvent::Agent(AgentEvent::Text { text }))) => {
                    let f = self.chunk(Delta { role: None, content: Some(text) }, None, None);
                    self.pending.push_back(f);
                }
                Ok(Some(JobEvent::Agent(AgentEvent::Recommendations { items }))) => {
                    let f = self.chunk(Delta { role: None, content: Some(String::new()) }, None, Some(items));
                    self.pending.push_back(f);
                }
                Ok(Some(JobEvent::Agent(AgentEvent::Done { stats }))) => {
                    self.usage = Usage::of(stats.generation.as_ref());
                    self.finish = finish_reason(stats.finish);
                }
                Ok(Some(JobEvent::Finished(Err(e)))) => self.finish_with_error(&e),
                Ok(Some(JobEvent::Finished(Ok(_)))) => {
                    let f = self.chunk(Delta::default(), Some(self.finish), None);
                    self.pending.push_back(f);
                    if self.include_usage {
                        let usage = self.usage;
                        let c = ChatCompletionChunk {
                            id: self.meta.id.clone(),
                            object: "chat.completion.chunk",
                            created: self.meta.created,
                            model: self.meta.model.clone(),
                            choices: Vec::new(),
                            session_id: self.meta.session_id.clone(),
                            recommendations: None,
                            usage: Some(usage),
                        };
                        self.pending.push_back(sse_data(&c));
                    }
                    self.pending.push_back("data: [DONE]\n\n".to_string());
                    self.finished = true;
                }
            }
        }
    }
}

fn sse_data<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_string(v) {
        Ok(s) => format!("data: {s}\n\n"),
        Err(e) => format!(
            "data: {{\"error\":{{\"message\":\"cannot encode a chunk: {}\",\"type\":\"server_error\",\"param\":null,\"code\":\"internal_error\"}}}}\n\n",
            e.to_string().replace(['"', '\\'], "'")
        ),
    }
}

pub(super) fn stream_response(
    meta: ReplyMeta,
    rx: UnboundedReceiver<JobEvent>,
    guard: CancelOnDrop,
    include_usage: bool,
) -> Response {
    let mut st = SseStream {
        meta,
        rx,
        _guard: guard,
        include_usage,
        usage: Usage::default(),
        finish: "stop",
        pending: VecDeque::new(),
        finished: false,
    };
    let first = st.chunk(Delta { role: Some("assistant"), content: Some(String::new()) }, None, None);
    st.pending.push_back(first);
    let stream = futures_util::stream::unfold(st, |mut st| async move {
        st.next_frame().await.map(|f| (Ok::<_, Infallible>(Bytes::from(f)), st))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}
