//! A stand-in for Adapty's profile endpoint, for `relay --demo` and tests.
//!
//! It listens on a loopback port and answers as the reference documents:
//! the `{"data": ...}` envelope, the 401 bodies for a missing or wrong key,
//! the 404 body for an unknown profile, and a 400 for a request with both or
//! neither identity header. The relay talks to it over real HTTP, with the
//! same code that talks to Adapty.

pub mod profiles;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

pub struct StandIn {
    /// Where it listens, for `ADAPTY_API_BASE`.
    pub base_url: String,
    /// The key it accepts; generated fresh for every start.
    pub key: String,
}

struct Data {
    key: String,
    /// Fixed profiles, or `None` for the demo's samples, each built as of
    /// the moment it is asked for.
    profiles: Option<Vec<Value>>,
}

impl StandIn {
    /// Starts serving `profiles` (each a bare profile object, not an envelope)
    /// on a free loopback port, in the background of the current runtime.
    pub async fn start(profiles: Vec<Value>) -> std::io::Result<StandIn> {
        Self::serve(Some(profiles)).await
    }

    /// The demo's samples (`profiles::SAMPLES`), their dates relative to
    /// each response: a sample's story holds however long the demo runs.
    pub async fn start_samples() -> std::io::Result<StandIn> {
        Self::serve(None).await
    }

    async fn serve(profiles: Option<Vec<Value>>) -> std::io::Result<StandIn> {
        let key = format!("secret_demo_{}", uuid::Uuid::new_v4().simple());
        let data = Arc::new(Data {
            key: key.clone(),
            profiles,
        });
        let app = Router::new()
            .route("/api/v2/server-side-api/profile/", get(get_profile))
            .with_state(data);
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(StandIn { base_url, key })
    }
}

async fn get_profile(State(data): State<Arc<Data>>, headers: HeaderMap) -> Response {
    let authorization = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok());
    match authorization {
        None => {
            return adapty_error(
                StatusCode::UNAUTHORIZED,
                json!([{"source": "non_field_errors", "errors": ["Authentication credentials were not provided."]}]),
                "not_authenticated",
            )
        }
        Some(value) if value != format!("Api-Key {}", data.key) => {
            return adapty_error(
                StatusCode::UNAUTHORIZED,
                json!(["Invalid API key"]),
                "unauthorized",
            )
        }
        Some(_) => {}
    }

    let customer_user_id = headers.get("adapty-customer-user-id");
    let profile_id = headers.get("adapty-profile-id");
    let (field, wanted) = match (customer_user_id, profile_id) {
        (Some(id), None) => ("customer_user_id", id),
        (None, Some(id)) => ("profile_id", id),
        _ => {
            return adapty_error(
                StatusCode::BAD_REQUEST,
                json!({"non_field_errors": ["Send exactly one of adapty-customer-user-id and adapty-profile-id."]}),
                "base_error",
            )
        }
    };
    let wanted = String::from_utf8_lossy(wanted.as_bytes());
    let found = match &data.profiles {
        Some(fixed) => fixed
            .iter()
            .find(|profile| profile[field].as_str() == Some(wanted.as_ref()))
            .cloned(),
        None => profiles::find(field, &wanted, chrono::Utc::now()),
    };
    match found {
        Some(profile) => Json(json!({ "data": profile })).into_response(),
        None => adapty_error(
            StatusCode::NOT_FOUND,
            json!([{"source": null, "errors": ["Profile not found"]}]),
            "profile_does_not_exist",
        ),
    }
}

fn adapty_error(status: StatusCode, errors: Value, error_code: &str) -> Response {
    let body = json!({"errors": errors, "error_code": error_code, "status_code": status.as_u16()});
    (status, Json(body)).into_response()
}
