//! How many connections each client address holds, so that one client cannot take every
//! slot of a listener.
//!
//! The listener's cap on open connections protects the process; alone it lets one client
//! hold every slot with cheap keep-alive requests (1,030 sockets each sending `GET
//! /healthz` in time held a 1,024 cap for good). Each address therefore gets a share of
//! the cap. IPv6 clients are counted by their /64, which one subscriber usually holds
//! whole: counting each address would hand that client 2^64 shares. A connection over its
//! address's share is answered `429 RATE_LIMITED` with `Connection: close`, so the client
//! learns why rather than hanging in the backlog.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// The connections open per client address (IPv4) or /64 (IPv6).
#[derive(Debug, Default)]
pub(crate) struct PerAddress {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection counted against its address; uncounted when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    table: Arc<PerAddress>,
    address: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap();
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// The address a client is counted under: an IPv4 address (or an IPv4-mapped IPv6 one)
/// whole, an IPv6 address by its /64.
fn counted_as(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

impl PerAddress {
    /// Counts a new connection from `address`, or `None` when that address already holds
    /// `share` connections.
    pub(crate) fn take(self: &Arc<Self>, address: IpAddr, share: usize) -> Option<Slot> {
        let address = counted_as(address);
        let mut open = self.open.lock().unwrap();
        let count = open.entry(address).or_insert(0);
        if *count >= share {
            return None;
        }
        *count += 1;
        Some(Slot { table: self.clone(), address })
    }
}

/// Answers a connection over its address's share with `429 RATE_LIMITED` and closes it.
/// The request's head is read first (an HTTP client takes an answer sent before its request
/// for a broken server, not a refusal); all within a second, whatever the client does.
pub(crate) async fn refuse(mut stream: TcpStream) {
    let body = serde_json::json!({
        "code": wx_cloud_storage_core::ErrorCode::RateLimited.as_str(),
        "message": "too many connections from your address: reuse one, or retry later",
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: 1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut head = Vec::with_capacity(1024);
        let mut chunk = [0u8; 1024];
        while head.len() < 8192 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await? {
                0 => break,
                n => head.extend_from_slice(&chunk[..n]),
            }
        }
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_share_and_gets_it_back() {
        let table = Arc::new(PerAddress::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let slots: Vec<Slot> = (0..3).map(|_| table.take(a, 3).unwrap()).collect();
        assert!(table.take(a, 3).is_none(), "a fourth is over the share");
        assert!(table.take("10.0.0.2".parse().unwrap(), 3).is_some(), "another address is not");
        drop(slots);
        assert!(table.take(a, 3).is_some(), "closed connections give their slots back");
        assert!(table.open.lock().unwrap().len() <= 1, "emptied addresses are forgotten");
    }

    #[test]
    fn an_ipv6_subscriber_is_one_address_and_mapped_ipv4_is_ipv4() {
        let table = Arc::new(PerAddress::default());
        let _held = table.take("2001:db8::1".parse().unwrap(), 1).unwrap();
        assert!(table.take("2001:db8::ffff:1".parse().unwrap(), 1).is_none(), "same /64");
        assert!(table.take("2001:db8:0:1::1".parse().unwrap(), 1).is_some(), "another /64");
        let _v4 = table.take("192.0.2.7".parse().unwrap(), 1).unwrap();
        assert!(table.take("::ffff:192.0.2.7".parse().unwrap(), 1).is_none());
    }
}
