//! The local listeners, `wxcs emulate` and `wxcs dev`, as processes: the `Host` check
//! against DNS rebinding (second review, G), what the demo answers outside its API, and the
//! demo's image decode bounded by pixels × channels.

use super::*;

/// `wxcs dev` on free ports, its pages in `www`, its data in a temp dir.
async fn dev(www: &std::path::Path, extra: &[&str]) -> (Process, u16, u16, u16) {
    let (port, wx, cos) = (free_port(), free_port(), free_port());
    let child = Command::new(wxcs())
        .args([
            "dev",
            "--port",
            &port.to_string(),
            "--wx-port",
            &wx.to_string(),
            "--cos-port",
            &cos.to_string(),
        ])
        .arg("--data-dir")
        .arg(temp_dir("dev-data"))
        .arg("--www")
        .arg(www)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let process =
        Process { child, wx: format!("http://127.0.0.1:{wx}"), cos: format!("http://127.0.0.1:{cos}") };
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("http://127.0.0.1:{port}/healthz")).send().await.is_ok() {
            return (process, port, wx, cos);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("wxcs dev did not start");
}

/// Sends `GET path` to `port` with the `Host` header `host`; the status.
async fn with_host(port: u16, path: &str, host: &str) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut answer).await.unwrap();
    String::from_utf8_lossy(&answer)[9..12].parse().unwrap()
}

/// A page on a rebinding domain reaches the local server with its own name in `Host`:
/// every listener of `wxcs dev` (backend, WeChat API, COS) refuses it, with the token
/// route the attack wanted; loopback names, IP addresses and allowed names are answered.
#[tokio::test]
async fn local_listeners_answer_only_local_names_and_allowed_ones() {
    let (_dev, port, wx, cos) =
        dev(&temp_dir("no-pages"), &["--allowed-host", "emulator,.lan.example"]).await;
    let token = "/cgi-bin/token?grant_type=client_credentials&appid=wx0000000000emulator&secret=x";
    for (listener, path) in [(port, "/healthz"), (wx, token), (cos, "/")] {
        for host in [
            "evil.example",
            "evil.example:8787",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "user@localhost",
            "",
        ] {
            assert_eq!(
                with_host(listener, path, host).await,
                403,
                "{listener} {path} answered Host {host:?}"
            );
        }
        for host in [
            "localhost",
            &format!("localhost:{listener}"),
            "app.localhost",
            "127.0.0.1",
            "[::1]:1",
            "emulator",
            "a.lan.example",
        ] {
            assert_ne!(with_host(listener, path, host).await, 403, "{listener} {path} refused Host {host:?}");
        }
    }
    let mut emulate = support::process::spawn_with(&temp_dir("hosts"), &[]).await;
    let wx: u16 = emulate.wx.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(with_host(wx, token, "evil.example").await, 403, "wxcs emulate too");
    assert_ne!(with_host(wx, token, "localhost").await, 403);
    let _ = emulate.child.kill();
}

/// An unknown API route is a 404 with a code (it was the placeholder page with 200); pages
/// answer GET only.
#[tokio::test]
async fn the_demo_answers_unknown_api_routes_with_an_error() {
    let www = temp_dir("pages");
    std::fs::write(www.join("index.html"), "<h1>the demo</h1>").unwrap();
    let (_dev, port, _, _) = dev(&www, &[]).await;
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}");
    for request in [
        http.post(format!("{url}/api/storage/typo")).bearer_auth("demo-token").json(&json!({})),
        http.get(format!("{url}/api/storage/typo")),
        http.get(format!("{url}/api")),
        http.post(format!("{url}/index.html")),
    ] {
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 404);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "NOT_FOUND", "{body}");
        assert!(body["message"].as_str().unwrap().len() > 10);
    }
    let page = http.get(format!("{url}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("the demo"));
}

/// An RGBA PNG as large as a 243 KB file can make (8000 × 8000, 244 MiB decoded) is refused
/// from its header; the largest image taken (4096 × 4096 RGBA) is made gray with the demo
/// process's peak under 150 MiB.
#[tokio::test]
async fn the_demo_bounds_image_decoding_by_pixels_and_channels() {
    let (dev, port, _, _) = dev(&temp_dir("no-pages"), &[]).await;
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}");
    let upload = |name: &'static str, width: u32, height: u32| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let mut png = std::io::Cursor::new(Vec::new());
            image::RgbaImage::new(width, height).write_to(&mut png, image::ImageFormat::Png).unwrap();
            let bytes = png.into_inner();
            let body = json!({"path": name, "size": bytes.len(), "contentType": "image/png"});
            let link: Value = http
                .post(format!("{url}{CREDS}"))
                .bearer_auth("demo-token")
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let key = link["key"].as_str().unwrap().to_owned();
            let form = support::standard_form(&link, &key, bytes, Some("image/png"));
            let posted = http.post(link["url"].as_str().unwrap()).multipart(form).send().await.unwrap();
            assert_eq!(posted.status(), 204);
            link["file_id"].as_str().unwrap().to_owned()
        }
    };
    let gray = |file_id: String| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let answer = http
                .post(format!("{url}/api/demo/grayscale"))
                .bearer_auth("demo-token")
                .json(&json!({ "file_id": file_id }))
                .send()
                .await
                .unwrap();
            (answer.status().as_u16(), answer.json::<Value>().await.unwrap())
        }
    };
    let bomb = upload("bomb.png", 8000, 8000).await;
    let (status, answer) = gray(bomb).await;
    assert_eq!((status, answer["code"].as_str()), (413, Some("TOO_LARGE")), "{answer}");
    let largest = upload("largest.png", 4096, 4096).await;
    let (status, answer) = gray(largest).await;
    assert_eq!(status, 200, "{answer}");
    let peak_mib = peak_rss_kib(dev.child.id()) / 1024;
    eprintln!("the demo peaked at {peak_mib} MiB after the largest image");
    assert!(peak_mib < 150, "the demo peaked at {peak_mib} MiB");
}
