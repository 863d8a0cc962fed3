//! The benchmark's ceiling: a plain axum "hello" handler on the same runtime setup as
//! notejam, so `bench/run` can show the app's figures next to what axum alone does here.
//!
//! Usage: hello [ADDR]   (default 127.0.0.1:8001)

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8001".to_owned());
    let router = Router::new().route("/", get(|| async { "Hello, World!" }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, router).await
}
