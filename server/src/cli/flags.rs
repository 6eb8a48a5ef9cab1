//! Flag groups shared by the subcommands: a listener's limits (`serve`, `emulate`), and
//! the timeouts of calls upstream (`serve`). Their defaults are the library's own.

use std::time::Duration;

use clap::Args;
use wx_cloud_storage_server::{client::Timeouts, http::Limits};

/// Limits of a listener.
#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// Connections open at once; past it, new ones wait to be accepted.
    #[arg(long, env = "WXCS_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Connections one client address (an IPv6 /64) may hold; past it, new ones are
    /// answered 429. Default: a quarter of --max-connections. Behind a proxy every client
    /// has the proxy's address: raise it to --max-connections there.
    #[arg(long, env = "WXCS_MAX_CONNECTIONS_PER_ADDRESS")]
    max_connections_per_address: Option<usize>,
    /// Seconds a client has to send its request headers; also how long an idle
    /// keep-alive connection stays open.
    #[arg(long, env = "WXCS_HEADER_TIMEOUT", default_value_t = Limits::default().header_timeout.as_secs())]
    header_timeout: u64,
    /// Seconds a write to a client may wait for it to read; past it, the connection closes.
    #[arg(long, env = "WXCS_WRITE_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..), default_value_t = Limits::default().write_timeout.as_secs())]
    write_timeout: u64,
    /// Requests served on one connection before it is closed (the last with Connection: close).
    #[arg(long, env = "WXCS_MAX_REQUESTS_PER_CONNECTION", value_parser = clap::value_parser!(u64).range(1..), default_value_t = Limits::default().max_requests_per_connection as u64)]
    max_requests_per_connection: u64,
    /// Seconds a connection may stay open; then it closes after the request in flight.
    #[arg(long, env = "WXCS_MAX_CONNECTION_AGE", value_parser = clap::value_parser!(u64).range(1..), default_value_t = Limits::default().max_connection_age.as_secs())]
    max_connection_age: u64,
}

impl ListenArgs {
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections,
            max_connections_per_address: self.max_connections_per_address,
            header_timeout: Duration::from_secs(self.header_timeout),
            write_timeout: Duration::from_secs(self.write_timeout),
            max_requests_per_connection: usize::try_from(self.max_requests_per_connection)
                .unwrap_or(usize::MAX),
            max_connection_age: Duration::from_secs(self.max_connection_age),
        }
    }
}

/// Timeouts of calls to WeChat and COS.
#[derive(Debug, Args)]
pub(crate) struct UpstreamArgs {
    /// Seconds a whole call to the WeChat open API may take, a token fetch included.
    #[arg(long, env = "WXCS_UPSTREAM_TIMEOUT", default_value_t = Timeouts::default().api.as_secs())]
    upstream_timeout: u64,
    /// Seconds connecting to WeChat or COS may take.
    #[arg(long, env = "WXCS_CONNECT_TIMEOUT", default_value_t = Timeouts::default().connect.as_secs())]
    connect_timeout: u64,
    /// Seconds a transfer to or from COS may go without a byte.
    #[arg(long, env = "WXCS_TRANSFER_TIMEOUT", default_value_t = Timeouts::default().transfer_idle.as_secs())]
    transfer_timeout: u64,
}

impl UpstreamArgs {
    pub(crate) fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(self.connect_timeout),
            api: Duration::from_secs(self.upstream_timeout),
            transfer_idle: Duration::from_secs(self.transfer_timeout),
        }
    }
}
