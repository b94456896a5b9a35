//! The push client's connections: one that dies silently (the peer stops answering, a NAT
//! forgets it) is found by HTTP/2 pings and replaced, instead of swallowing every request.

use crate::support;

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::spawn_app_with;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::rustls;

/// A TCP stream that can be made to go silent: once frozen, nothing more is read or
/// written, and the socket stays open.
struct Freezable {
    inner: tokio::net::TcpStream,
    frozen: Arc<AtomicBool>,
}

impl AsyncRead for Freezable {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if self.frozen.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Freezable {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if self.frozen.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.frozen.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// An HTTPS push service speaking HTTP/2 that answers every push 201. It keeps a switch
/// per connection, so a test can make every connection open so far go silent.
struct H2Service {
    base: String,
    cert_pem: String,
    connections: Arc<Mutex<Vec<Arc<AtomicBool>>>>,
}

impl H2Service {
    async fn start() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("https://{}", listener.local_addr().unwrap());
        let connections: Arc<Mutex<Vec<Arc<AtomicBool>>>> = Arc::default();
        let known = connections.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let frozen = Arc::new(AtomicBool::new(false));
                known.lock().unwrap().push(frozen.clone());
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(Freezable { inner: tcp, frozen }).await else { return };
                    let service = hyper::service::service_fn(|request: Request<Incoming>| async move {
                        let _ = request.into_body().collect().await;
                        Ok::<_, Infallible>(
                            Response::builder().status(StatusCode::CREATED).body(Empty::<Bytes>::new()).unwrap(),
                        )
                    });
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self { base, cert_pem: certified.cert.pem(), connections }
    }

    fn opened(&self) -> usize {
        self.connections.lock().unwrap().len()
    }

    fn silence_every_connection(&self) {
        for frozen in self.connections.lock().unwrap().iter() {
            frozen.store(true, Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_goes_silent_is_found_and_replaced() {
    let service = H2Service::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("push-service.pem");
    std::fs::write(&cert, &service.cert_pem).unwrap();
    let app = spawn_app_with(|config| {
        config.extra_root_cert = Some(cert.clone());
        // Pings every second, answered within half of one.
        config.push_timeout = Duration::from_millis(500);
        config.retry.max_attempts = 100;
        config.retry.window = Duration::from_secs(60);
    })
    .await;
    let subscribers = 20;
    for i in 0..subscribers {
        let (keys, auth) = ece::generate_keypair_and_auth_secret().unwrap();
        let endpoint = format!("{}/push/{i}", service.base);
        let p256dh = URL_SAFE_NO_PAD.encode(keys.pub_as_raw().unwrap());
        let auth = URL_SAFE_NO_PAD.encode(auth);
        let form = [("endpoint", endpoint.as_str()), ("p256dh", &p256dh), ("auth", &auth)];
        assert_eq!(app.call("subscribe", &form).await.status(), reqwest::StatusCode::OK);
    }
    app.login().await;
    assert_eq!(app.wait_until_sent(app.send_plain("Before").await).await.sent, subscribers);
    let before = service.opened();

    // Every connection the client holds goes silent, as after a NAT forgot it.
    service.silence_every_connection();
    let campaign = app.wait_until_sent(app.send_plain("After").await).await;

    assert_eq!((campaign.sent, campaign.failed), (subscribers, 0));
    assert!(service.opened() > before, "no new connection: the silent one was never replaced");
}
