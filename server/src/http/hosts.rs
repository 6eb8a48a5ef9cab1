//! The `Host` check of the local listeners (`wxcs emulate`, `wxcs dev`): a request whose
//! `Host` is not a loopback name, an IP address or a name the user allowed is refused.
//!
//! Why: a page on a DNS-rebinding domain (`evil.example` answering first with its own
//! address, then with 127.0.0.1) is same-origin with the local server, so CORS does not
//! stop it; with the emulator's public default AppSecret it could mint access tokens and
//! drive the demo backend. The browser still sends the page's name in `Host`, which no
//! local server answers to, so refusing unknown names ends the attack; Vite
//! (`server.allowedHosts`) and webpack-dev-server (`allowedHosts`) check the same way. An
//! IP literal cannot be rebound (no DNS is asked), so any is accepted, the bound address
//! and a LAN address a phone uses included. `wxcs serve` has no such check: in production
//! its `Host` is the team's domain, and it trusts no caller for being local.

use std::{net::IpAddr, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{header::HOST, uri::Authority, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json, Router,
};

/// The names a local listener answers to besides loopback names and IP addresses: exact
/// names, `.example.com` for a domain and its subdomains, or `*` for any (the check off).
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(Arc<[String]>);

impl AllowedHosts {
    /// The names given by `--allowed-host`, compared without case.
    pub fn new(names: &[String]) -> AllowedHosts {
        AllowedHosts(names.iter().map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase()).collect())
    }

    /// Whether a request with this `Host` header is answered.
    pub fn allows(&self, host: &str) -> bool {
        // A Host is a name and a port only: user info is no part of it.
        if host.contains('@') {
            return false;
        }
        let Ok(authority) = host.parse::<Authority>() else { return false };
        let name = authority.host().trim_start_matches('[').trim_end_matches(']');
        if name.parse::<IpAddr>().is_ok() {
            return true;
        }
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        self.0.iter().any(|allowed| {
            allowed == "*"
                || *allowed == name
                || allowed.strip_prefix('.').is_some_and(|domain| {
                    name == domain || name.strip_suffix(domain).is_some_and(|sub| sub.ends_with('.'))
                })
        })
    }

    /// `router` answering only requests with an allowed `Host`.
    pub fn guard(&self, router: Router) -> Router {
        router.layer(axum::middleware::from_fn_with_state(self.clone(), check))
    }
}

async fn check(State(hosts): State<AllowedHosts>, request: Request, next: Next) -> Response {
    let host = request.headers().get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if hosts.allows(host) {
        return next.run(request).await;
    }
    let message = format!(
        "this local server does not answer to Host {host:?} (a DNS-rebinding guard): \
         use localhost or an IP address, or start it with --allowed-host NAME"
    );
    let code = wx_cloud_storage_core::ErrorCode::Forbidden.as_str();
    (StatusCode::FORBIDDEN, Json(serde_json::json!({ "code": code, "message": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_addresses_pass_and_other_names_do_not() {
        let none = AllowedHosts::default();
        for host in [
            "localhost",
            "localhost:8787",
            "LOCALHOST.",
            "app.localhost:5173",
            "127.0.0.1:8788",
            "[::1]:8789",
            "192.168.1.20:8787",
            "0.0.0.0",
        ] {
            assert!(none.allows(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "evil.example:8788",
            "localhost.evil.example",
            "evilocalhost",
            "127.0.0.1.nip.io",
            "2130706433x",
            "user@localhost",
            "localhost/x",
        ] {
            assert!(!none.allows(host), "{host}");
        }
    }

    #[test]
    fn allowed_names_are_exact_or_a_domain() {
        let some = AllowedHosts::new(&["Emulator".into(), ".dev.example".into()]);
        assert!(some.allows("emulator:8788") && some.allows("dev.example") && some.allows("a.b.dev.example"));
        assert!(
            !some.allows("emulator.evil") && !some.allows("xdev.example") && !some.allows("dev.example.evil")
        );
        assert!(AllowedHosts::new(&["*".into()]).allows("anything.example"));
    }
}
