//! `wss://`: our client and server over a TLS listener, with certificates
//! made at test time: trust from added roots, an untrusted root as an error
//! with its status or made ignorable, and client certificates.
#![cfg(feature = "tls")]

use crate::support;

use futures::StreamExt;
use sock_core::{HostName, ProtectionLevel, SocketErrorStatus};
use sock_tcp::StreamSocketListener;
use sock_test::certs::Ca;
use sock_tls::{ClientAuth, IgnorableCertificateError, TlsServerConfig};
use sock_websocket::{
    Message, MessageWebSocket, MessageWebSocketControl, ServerWebSocketControl, WebErrorStatus,
};
use support::{echo, send, within};

/// A CA, and a leaf it signed for `localhost` (server) or a client.
struct Pki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
}

fn pki() -> Pki {
    let ca = Ca::new("Sock WebSocket Test CA");
    let server = ca.server(&["localhost"]);
    let client = ca.client("alice");
    Pki {
        ca_pem: ca.pem(),
        server: (server.cert_pem, server.key_pem),
        client: (client.cert_pem, client.key_pem),
    }
}

/// A `wss://` echo server; gives its URI.
async fn wss_server(pki: &Pki, auth: ClientAuth) -> String {
    // The whole chain, so that an untrusted root can be waived.
    let chain = format!("{}{}", pki.server.0, pki.ca_pem);
    let config = TlsServerConfig::builder()
        .certificate_chain_pem(chain.as_bytes(), pki.server.1.as_bytes())
        .client_authentication(auth)
        .build()
        .unwrap();
    let listener = StreamSocketListener::builder()
        .tls_server_config(config)
        .bind_endpoint(Some(&HostName::new("127.0.0.1").unwrap()), 0)
        .await
        .unwrap();
    let uri = format!(
        "wss://localhost:{}/secure",
        listener.information().local_port
    );
    tokio::spawn(
        ServerWebSocketControl::new().serve(listener, |ws| async move { echo(ws).await.map(drop) }),
    );
    uri
}

fn trusting(pki: &Pki) -> MessageWebSocketControl {
    MessageWebSocket::builder()
        .with_os_roots(false)
        .add_root_certificates_pem(pki.ca_pem.as_bytes())
}

#[tokio::test]
async fn wss_echoes_over_tls_with_the_servers_certificate_in_the_information() {
    let pki = pki();
    let uri = wss_server(&pki, ClientAuth::None).await;
    let mut ws = within(trusting(&pki).connect(&uri)).await.unwrap();
    assert!(matches!(
        ws.information().protection_level,
        ProtectionLevel::Tls12 | ProtectionLevel::Tls13
    ));
    let cert = ws.socket_information();
    assert!(cert.server_certificate().is_some());
    send(&mut ws, Message::text("over tls")).await;
    let echoed = within(ws.next()).await.unwrap().unwrap();
    assert_eq!(echoed.as_text(), Some("over tls"));
    within(ws.close(1000, "")).await.unwrap();
}

#[tokio::test]
async fn an_untrusted_root_fails_with_its_status_unless_made_ignorable() {
    let pki = pki();
    let uri = wss_server(&pki, ClientAuth::None).await;
    let control = MessageWebSocket::builder().with_os_roots(false);
    let err = within(control.connect(&uri)).await.unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::CertificateUntrustedRoot);
    assert_eq!(err.web_status(), WebErrorStatus::CertificateContainsErrors);

    let mut ws = within(
        control
            .ignorable_server_certificate_errors(&[IgnorableCertificateError::UntrustedRoot])
            .connect(&uri),
    )
    .await
    .unwrap();
    send(&mut ws, Message::binary(vec![1, 2, 3])).await;
    assert_eq!(within(ws.next()).await.unwrap().unwrap().len(), 3);
}

#[tokio::test]
async fn a_server_requiring_client_certificates_serves_a_client_that_presents_one() {
    let pki = pki();
    let auth = ClientAuth::required_pem(pki.ca_pem.as_bytes()).unwrap();
    let uri = wss_server(&pki, auth).await;
    let mut ws = within(
        trusting(&pki)
            .client_certificate_pem(pki.client.0.as_bytes(), pki.client.1.as_bytes())
            .connect(&uri),
    )
    .await
    .unwrap();
    send(&mut ws, Message::text("it is me")).await;
    assert!(within(ws.next()).await.unwrap().is_ok());

    // Without one, the connection never becomes a WebSocket.
    let result = within(async {
        let mut ws = trusting(&pki).connect(&uri).await?;
        ws.next().await.transpose()
    })
    .await;
    assert!(result.is_err(), "{result:?}");
}
