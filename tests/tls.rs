//! The edge↔core link over TLS: a real `chat-core` with a certificate
//! from a CA made for the test, and real `chat-edge` processes that trust
//! that CA, another one, or none. These always run a core and an edge,
//! whatever `TEST_CHAT_TOPOLOGY` says.

mod support;

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use support::{Api, DataDir, Server, Ws};

/// A CA and the PEM files of a certificate it signed for the core.
struct Pki {
    /// The CA's certificate.
    ca: PathBuf,
    /// The core's certificate (for `localhost` and 127.0.0.1).
    cert: PathBuf,
    /// The core's private key.
    key: PathBuf,
}

/// A fresh CA named `name`, and a server certificate it signed, in `dir`.
fn make_pki(dir: &Path, name: &str) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.distinguished_name
        .push(DnType::CommonName, format!("{name} test CA"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca.self_signed(&ca_key).expect("self-sign the CA");
    let issuer = Issuer::new(ca, ca_key);

    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let mut server = CertificateParams::new(names).expect("server params");
    server
        .distinguished_name
        .push(DnType::CommonName, "chat-core");
    let server_key = KeyPair::generate().expect("server key");
    let server_cert = server
        .signed_by(&server_key, &issuer)
        .expect("sign the server certificate");

    let write = |file: &str, pem: String| {
        let path = dir.join(format!("{name}-{file}"));
        std::fs::write(&path, pem).expect("write PEM");
        path
    };
    Pki {
        ca: write("ca.pem", ca_cert.pem()),
        cert: write("core.pem", server_cert.pem()),
        key: write("core.key", server_key.serialize_pem()),
    }
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// A core serving TLS with `pki`'s certificate, and an edge that trusts
/// `pki`'s CA and checks the name `localhost`.
async fn tls_cluster(data: &DataDir, pki: &Pki) -> Server {
    let core_env = [
        ("CHAT_TLS__CERT", utf8(&pki.cert)),
        ("CHAT_TLS__KEY", utf8(&pki.key)),
    ];
    let edge_env = [
        ("CHAT_EDGE__CORE__TLS_CA", utf8(&pki.ca)),
        ("CHAT_EDGE__CORE__TLS_DOMAIN", "localhost"),
    ];
    Server::cluster(data.clone(), "https", &core_env, &edge_env).await
}

/// Two users chat 1:1 through an edge whose link to the core is TLS with
/// the CA that signed the core's certificate.
#[tokio::test]
async fn an_edge_that_trusts_the_cores_ca_chats_over_tls() {
    let data = DataDir::new();
    let pki = make_pki(data.path(), "shared");
    let server = tls_cluster(&data, &pki).await;
    assert!(
        server.log().contains(r#""tls":true"#),
        "the core says it serves TLS:\n{}",
        server.log()
    );

    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let channel = api.direct(&ann, &bob).await;
    let (mut ann_ws, _) = Ws::connect(&server, &ann.token).await;
    let (mut bob_ws, _) = Ws::connect(&server, &bob.token).await;
    let ack = ann_ws.send_message(&channel, "m1", "over TLS").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let got = bob_ws.messages(1).await;
    assert_eq!(got[0]["text"], "over TLS");
    assert_eq!(
        got[0]["id"], ack["message"]["id"],
        "the acked message arrived"
    );

    let (status, log) = server.terminate().await;
    assert!(status.success(), "{log}");
}

/// An edge that trusts another CA, or none, does not reach a TLS core: it
/// exits at start with an error that names TLS and the certificate,
/// instead of serving clients it cannot serve.
#[tokio::test]
async fn an_edge_without_the_cores_ca_exits_with_a_tls_error() {
    let data = DataDir::new();
    let pki = make_pki(data.path(), "shared");
    let other = make_pki(data.path(), "other");
    let server = tls_cluster(&data, &pki).await;

    let wrong_ca = [
        ("CHAT_EDGE__CORE__TLS_CA", utf8(&other.ca)),
        ("CHAT_EDGE__CORE__TLS_DOMAIN", "localhost"),
    ];
    let (status, log) = server.edge_that_exits("https", &wrong_ca).await;
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains("TLS"), "the error names TLS: {log}");
    assert!(
        log.to_lowercase().contains("certificate"),
        "the error says what failed: {log}"
    );
    assert!(!log.contains(r#""listening""#), "it never served: {log}");

    // An https:// URL without a CA can trust no certificate: refused as
    // configuration, before any connection.
    let (status, log) = server.edge_that_exits("https", &[]).await;
    assert_eq!(status.code(), Some(2), "{log}");
    assert!(log.contains("edge.core.tls_ca"), "the key is named: {log}");

    // No CA at all, with a plain http:// URL: the core's TLS listener
    // cannot answer a plaintext client.
    let (status, log) = server.edge_that_exits("http", &[]).await;
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains("TLS"), "the error names TLS: {log}");
    assert!(!log.contains(r#""listening""#), "it never served: {log}");

    // The core is unharmed: an edge with the right CA still works.
    let api = Api::new(&server);
    api.signup("ann").await;
    let (status, log) = server.terminate().await;
    assert!(status.success(), "{log}");
}
