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
    /// Seconds a client has to send its request headers; also how long an idle
    /// keep-alive connection stays open.
    #[arg(long, env = "WXCS_HEADER_TIMEOUT", default_value_t = Limits::default().header_timeout.as_secs())]
    header_timeout: u64,
}

impl ListenArgs {
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections,
            header_timeout: Duration::from_secs(self.header_timeout),
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
