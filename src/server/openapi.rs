//! The OpenAPI 3.1 document served at `/openapi.json`, written by hand next to the wire types
//! it describes ([`super::wire`]).

use serde_json::{json, Value};

/// The OpenAPI document of every route, with request and response schemas.
pub fn document() -> Value {
    let err = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let ok = |schema: &str| json!({"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    let body = |schema: &str| json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Curator",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Conversational recommender over one or more catalogs (movies by default; `GET /v1/models` lists one model per catalog). OpenAI-compatible chat completions with catalog recommendations; every error is a JSON `Error`."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "Only when the server runs with --api-key"}},
            "schemas": {
                "Message": {"type": "object", "required": ["role"], "properties": {
                    "role": {"enum": ["system", "developer", "user", "assistant", "tool"]},
                    "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object", "properties": {"type": {"const": "text"}, "text": {"type": "string"}}}}, {"type": "null"}]},
                    "name": {"type": "string"}, "tool_call_id": {"type": "string"}},
                    "additionalProperties": {"description": "Refused with 400 (code unsupported_field, param messages[i].field) unless an echoed response message's empty field: refusal, tool_calls, function_call, audio, annotations as null or []."}},
                "ChatCompletionRequest": {"type": "object", "required": ["messages"], "properties": {
                    "model": {"type": "string", "default": "curator", "description": "`curator` (the default catalog) or `curator-NAME` (catalog NAME), as `GET /v1/models` lists; unknown: 404 model_not_found. A stored session keeps its catalog."},
                    "catalog": {"type": "string", "description": "Extension: the catalog NAME (must agree with model and with the session; unknown: 400 catalog_not_found)."},
                    "messages": {"type": "array", "minItems": 1, "maxItems": 256, "items": {"$ref": "#/components/schemas/Message"}},
                    "stream": {"type": "boolean", "default": false},
                    "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
                    "session_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "Extension: continue this stored session (only the last message is read)."},
                    "max_tokens": {"type": "integer", "minimum": 1, "maximum": 4096, "description": "Bounds completion_tokens (the model's tokens and the list text fed through it); finish_reason is length when reached."},
                    "max_completion_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
                    "temperature": {"type": "number", "minimum": 0, "maximum": 2, "default": 0},
                    "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.95},
                    "seed": {"type": "integer", "description": "Same seed, dialogue and parameters: same reply."},
                    "stop": {"oneOf": [{"type": "string"}, {"type": "array", "maxItems": 4, "items": {"type": "string"}}]},
                    "user": {"type": "string", "maxLength": 256},
                    "n": {"const": 1}},
                    "additionalProperties": {"description": "Refused with 400 (code unsupported_field) unless its value changes nothing, e.g. presence_penalty 0, logprobs false, tools []."}},
                "Recommendation": {"type": "object", "properties": {
                    "id": {"type": "integer", "description": "Catalog item id (ReDial movieId in the movies catalog)"},
                    "title": {"type": "string"}, "reason": {"type": "string"}, "score": {"type": "number"}}},
                "Usage": {"type": "object", "properties": {"prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"}}},
                "ChatCompletion": {"type": "object", "properties": {
                    "id": {"type": "string"}, "object": {"const": "chat.completion"}, "created": {"type": "integer"}, "model": {"type": "string"},
                    "choices": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "message": {"type": "object", "properties": {"role": {"const": "assistant"}, "content": {"type": "string"}}}, "finish_reason": {"enum": ["stop", "length"]}}}},
                    "usage": {"$ref": "#/components/schemas/Usage"},
                    "session_id": {"type": "string", "description": "Extension: send back to continue the session"},
                    "recommendations": {"type": "array", "items": {"$ref": "#/components/schemas/Recommendation"}, "description": "Extension: the items the reply lists"}}},
                "ChatCompletionChunk": {"type": "object", "description": "One `data:` event when stream is true; the stream ends with `data: [DONE]`. One chunk carries `recommendations`.", "properties": {
                    "id": {"type": "string"}, "object": {"const": "chat.completion.chunk"}, "created": {"type": "integer"}, "model": {"type": "string"},
                    "choices": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "delta": {"type": "object", "properties": {"role": {"type": "string"}, "content": {"type": "string"}}}, "finish_reason": {"type": ["string", "null"]}}}},
                    "session_id": {"type": "string"},
                    "recommendations": {"type": "array", "items": {"$ref": "#/components/schemas/Recommendation"}},
                    "usage": {"$ref": "#/components/schemas/Usage"}}},
                "RecommendRequest": {"type": "object", "additionalProperties": false, "properties": {
                    "model": {"type": "string", "default": "curator"},
                    "catalog": {"type": "string"},
                    "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                    "session_id": {"type": "string"},
                    "k": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}}},
                "ItemRef": {"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}},
                "RecommendResponse": {"type": "object", "properties": {
                    "object": {"const": "recommendation.list"}, "model": {"type": "string", "description": "The catalog's model: curator-NAME"}, "session_id": {"type": ["string", "null"]},
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Recommendation"}},
                    "liked": {"type": "array", "items": {"$ref": "#/components/schemas/ItemRef"}},
                    "disliked": {"type": "array", "items": {"$ref": "#/components/schemas/ItemRef"}}}},
                "FeedbackRequest": {"type": "object", "required": ["session_id", "item_id", "rating"], "properties": {
                    "session_id": {"type": "string"}, "item_id": {"type": "integer"}, "rating": {"enum": ["like", "dislike", "seen"]}}},
                "FeedbackResponse": {"type": "object", "properties": {
                    "object": {"const": "feedback"}, "session_id": {"type": "string"}, "item": {"$ref": "#/components/schemas/ItemRef"}, "rating": {"type": "string"}}},
                "Session": {"type": "object", "properties": {
                    "object": {"const": "session"}, "id": {"type": "string"}, "model": {"type": "string", "description": "The session's catalog as a model: curator-NAME"},
                    "messages": {"type": "array", "items": {"type": "object", "properties": {"role": {"type": "string"}, "content": {"type": "string"}}}},
                    "liked": {"type": "array", "items": {"$ref": "#/components/schemas/ItemRef"}},
                    "disliked": {"type": "array", "items": {"$ref": "#/components/schemas/ItemRef"}},
                    "seen": {"type": "array", "items": {"$ref": "#/components/schemas/ItemRef"}, "description": "Items the seeker has seen (said in the dialogue or by feedback): never recommended again"},
                    "recommended": {"type": "array", "items": {"$ref": "#/components/schemas/ItemRef"}},
                    "wanted": {"type": "array", "items": {"$ref": "#/components/schemas/AttributeRef"}, "description": "Attributes asked for, in order of first mention"},
                    "rejected": {"type": "array", "items": {"$ref": "#/components/schemas/AttributeRef"}, "description": "Attributes ruled out: no recommended item has one"},
                    "recommendations": {"type": "array", "items": {"$ref": "#/components/schemas/SessionRecommendation"}, "description": "The items of the latest reply, in its order"}}},
                "AttributeRef": {"type": "object", "properties": {
                    "kind": {"enum": ["genre", "person", "years", "keyword"]},
                    "label": {"type": "string", "description": "As replies name it: \"thriller\", \"Denzel Washington\", \"the 1990s\""}}},
                "SessionRecommendation": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "title": {"type": "string"}, "year": {"type": ["integer", "null"]},
                    "genres": {"type": "array", "items": {"type": "string"}}, "reason": {"type": "string"}}},
                "ModelList": {"type": "object", "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string", "description": "curator (the default catalog) or curator-NAME, one per catalog"}, "catalog": {"type": "string"}, "items": {"type": "string", "description": "The catalog's item noun, plural"}, "object": {"const": "model"}, "created": {"type": "integer"}, "owned_by": {"type": "string"}}}}}},
                "Health": {"type": "object", "properties": {"status": {"type": "string"}, "queue_depth": {"type": "integer"}, "queue_capacity": {"type": "integer"}, "generating": {"type": "boolean"}, "worker_alive": {"type": "boolean"}}},
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                    "message": {"type": "string"}, "type": {"type": "string"}, "param": {"type": ["string", "null"]}, "code": {"type": "string"}}}}}
            }
        },
        "security": [{"bearer": []}],
        "paths": {
            "/v1/chat/completions": {"post": {
                "summary": "Chat turn (OpenAI Chat Completions); SSE when stream is true",
                "requestBody": body("ChatCompletionRequest"),
                "responses": {
                    "200": {"description": "A completion, or an event stream of chunks", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletion"}},
                        "text/event-stream": {"schema": {"$ref": "#/components/schemas/ChatCompletionChunk"}}}},
                    "400": err("Malformed JSON, wrong types, empty messages, oversize input, invalid session id"),
                    "401": err("Missing or wrong API key"),
                    "404": err("Unknown model"),
                    "409": err("The session is answering another request (Retry-After)"),
                    "408": err("Body not all received within the body deadline (connection closed)"),
                    "413": err("Body larger than the limit"),
                    "429": err("Generation queue full (Retry-After)"),
                    "503": err("Generation worker unavailable (Retry-After)"),
                    "504": err("Request timeout; generation cancelled")}}},
            "/v1/models": {"get": {"summary": "Models served", "responses": {"200": ok("ModelList"), "401": err("Missing or wrong API key")}}},
            "/v1/recommend": {"post": {
                "summary": "Ranked items with reasons for a dialogue or a session, without text generation",
                "requestBody": body("RecommendRequest"),
                "responses": {"200": ok("RecommendResponse"), "400": err("Invalid request"), "401": err("Missing or wrong API key"), "404": err("Unknown session"), "408": err("Body not all received within the body deadline (connection closed)"), "413": err("Body larger than the limit")}}},
            "/v1/feedback": {"post": {
                "summary": "Like or dislike an item in a session",
                "requestBody": body("FeedbackRequest"),
                "responses": {"200": ok("FeedbackResponse"), "400": err("Invalid request or unknown item"), "401": err("Missing or wrong API key"), "404": err("Unknown session"), "408": err("Body not all received within the body deadline (connection closed)"), "409": err("Session busy (Retry-After)"), "413": err("Body larger than the limit")}}},
            "/v1/sessions/{id}": {"get": {
                "summary": "A stored session: answered turns, what the seeker likes, asks for and rules out, and the latest reply's items",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": ok("Session"), "400": err("Invalid session id"), "401": err("Missing or wrong API key"), "404": err("Unknown session")}}},
            "/healthz": {"get": {"summary": "Liveness", "security": [], "responses": {"200": ok("Health"), "503": ok("Health")}}},
            "/readyz": {"get": {"summary": "Readiness for chat traffic (queue not full)", "security": [], "responses": {"200": ok("Health"), "503": ok("Health")}}},
            "/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3.1"}}}},
            "/": {"get": {"summary": "The web chat page (its script and stylesheet are /page/app.js and /page/app.css); a client of the routes above", "security": [], "responses": {"200": {"description": "HTML with a strict Content-Security-Policy", "content": {"text/html": {}}}}}}
        }
    })
}
