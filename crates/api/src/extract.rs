//! Request extractors whose rejections are API errors rather than plain text.

use super::errors::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON request body.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(value)| Body(value))
            .map_err(|e| ApiError::invalid(e.body_text()))
    }
}

/// Path parameters. One that does not parse as its type (`/sites/abc`) names nothing: 404.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|e| {
                let message = format!("nothing at {}: {}", parts.uri.path(), e.body_text());
                ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", message)
            })
    }
}

/// Query-string parameters.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|e| ApiError::invalid(e.body_text()))
    }
}

/// A WebSocket upgrade; a plain request to a WebSocket endpoint is told so (400 `invalid_request`).
pub struct Upgrade(pub yawc::IncomingUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        yawc::IncomingUpgrade::from_request_parts(parts, state).await.map(Upgrade).map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_request",
                "this is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)",
            )
        })
    }
}
