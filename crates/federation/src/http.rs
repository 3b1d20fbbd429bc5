//! The HTTP client for other members' nodes and partners: HTTPS through rustls, trusting the system's
//! root certificates and, when configured, a consortium's own CA (`federation.extra_ca`, PEM).

use std::path::Path;

/// A client trusting the system's roots and the certificates of `extra_ca` (a PEM file).
pub fn client(extra_ca: Option<&Path>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder().use_rustls_tls();
    if let Some(path) = extra_ca {
        let unreadable = |e: &dyn std::fmt::Display| {
            format!("federation.extra_ca: cannot read certificates from {}: {e}", path.display())
        };
        let pem = std::fs::read(path).map_err(|e| unreadable(&e))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| unreadable(&e))?;
        if certificates.is_empty() {
            return Err(format!("federation.extra_ca: {} holds no PEM certificate", path.display()));
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(|e| format!("cannot build the HTTP client: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;

    /// A CA and an HTTPS server for `localhost` with a certificate it signed, answering "ok" to
    /// each connection's request; the CA's PEM and the server's port.
    async fn https_server() -> (String, u16) {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "consortium test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let server_key = rcgen::KeyPair::generate().unwrap();
        let server =
            rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap().signed_by(&server_key, &issuer).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![server.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while !request.ends_with(b"\r\n\r\n") {
                        match tls.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        (ca.pem(), port)
    }

    #[tokio::test]
    async fn a_member_is_reached_over_https_when_its_ca_is_trusted_and_refused_otherwise() {
        let (ca, port) = https_server().await;
        let dir = std::env::temp_dir().join(format!("chargemesh-federation-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca).unwrap();
        let url = format!("https://localhost:{port}/ocpi/versions");

        let trusting = client(Some(&ca_file)).unwrap();
        let answer = trusting.get(&url).send().await.unwrap();
        assert_eq!((answer.status().as_u16(), answer.text().await.unwrap()), (200, "ok".to_owned()));

        let error = client(None).unwrap().get(&url).send().await.unwrap_err();
        let chain = format!("{:?}", error);
        assert!(chain.contains("UnknownIssuer"), "{chain}");

        std::fs::write(&ca_file, "not a certificate").unwrap();
        assert!(client(Some(&ca_file)).unwrap_err().contains("holds no PEM certificate"));
        let missing = client(Some(&dir.join("missing.pem"))).unwrap_err();
        assert!(missing.contains("cannot read certificates"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
