//! TLS for the reference transport: rustls 0.23 with the `ring` crypto provider,
//! TLS 1.3 and 1.2 with rustls' safe defaults, server authentication only (clients
//! authenticate with their Ed25519 keys in the signed hello, which covers this
//! connection's [channel binding](CHANNEL_BINDING_LABEL), and in the malicious model by
//! their signatures inside the protocol).
//!
//! For tests and demos the server generates a self-signed certificate with rcgen and
//! writes it where clients can read it (`--cert-out`); clients trust exactly the
//! certificates they are given (`--ca`).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::error::{Error, Result, TransportError};

/// A byte stream the transport can run over: plain TCP or TLS over TCP.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// A boxed [`Stream`].
pub type BoxStream = Box<dyn Stream>;

/// The TLS exporter label (RFC 5705; RFC 8446, section 7.5) of the 32-byte channel
/// binding the hello signs; no context. Over plain TCP the binding is [`NO_BINDING`].
pub const CHANNEL_BINDING_LABEL: &[u8] = b"EXPORTER-secagg-net/2 hello";

/// The channel binding of a plain TCP connection: 32 zero bytes.
pub const NO_BINDING: [u8; 32] = [0; 32];

fn exported(r: core::result::Result<[u8; 32], rustls::Error>) -> Result<[u8; 32]> {
    r.map_err(|_| {
        Error::Transport(TransportError::Tls {
            what: "cannot derive the channel binding",
        })
    })
}

/// The channel binding of a server-side TLS connection.
///
/// # Errors
/// [`TransportError::Tls`] when rustls cannot export keying material (the handshake has
/// not finished).
pub fn server_binding(s: &tokio_rustls::server::TlsStream<TcpStream>) -> Result<[u8; 32]> {
    exported(
        s.get_ref()
            .1
            .export_keying_material([0u8; 32], CHANNEL_BINDING_LABEL, None),
    )
}

/// A certificate chain and its private key.
pub struct Identity {
    /// The chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
}

impl core::fmt::Debug for Identity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Identity")
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// A fresh self-signed certificate for `names` (DNS names or IP addresses), and
    /// the certificate as PEM for clients to trust.
    ///
    /// # Errors
    /// [`TransportError::Tls`] when rcgen refuses a name or fails to generate a key.
    pub fn self_signed(names: &[String]) -> Result<(Identity, String)> {
        let ck = rcgen::generate_simple_self_signed(names.to_vec()).map_err(|_| {
            Error::Transport(TransportError::Tls {
                what: "cannot generate a self-signed certificate for these names",
            })
        })?;
        let identity = Identity {
            chain: vec![ck.cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der())),
        };
        Ok((identity, ck.cert.pem()))
    }

    /// Reads a PEM certificate chain and a PEM private key.
    ///
    /// # Errors
    /// [`TransportError::Tls`] for an unreadable file or one without a certificate or key.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Identity> {
        let chain = read_certs(cert)?;
        let key = PrivateKeyDer::from_pem_file(key).map_err(|_| {
            Error::Transport(TransportError::Tls {
                what: "cannot read a PEM private key from the key file",
            })
        })?;
        Ok(Identity { chain, key })
    }
}

/// Parses every certificate of a PEM document.
///
/// # Errors
/// [`TransportError::Tls`] for malformed PEM or no certificate.
pub fn parse_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let bad = Error::Transport(TransportError::Tls {
        what: "cannot parse PEM certificates",
    });
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<core::result::Result<_, _>>()
        .map_err(|_| bad.clone())?;
    if certs.is_empty() {
        return Err(bad);
    }
    Ok(certs)
}

/// Reads every certificate of a PEM file.
///
/// # Errors
/// [`TransportError::Tls`] for an unreadable file or one without certificates.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bad = Error::Transport(TransportError::Tls {
        what: "cannot read PEM certificates from the certificate file",
    });
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|_| bad.clone())?
        .collect::<core::result::Result<_, _>>()
        .map_err(|_| bad.clone())?;
    if certs.is_empty() {
        return Err(bad);
    }
    Ok(certs)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS acceptor presenting `identity`.
///
/// # Errors
/// [`TransportError::Tls`] when rustls refuses the certificate or key.
pub fn acceptor(identity: Identity) -> Result<tokio_rustls::TlsAcceptor> {
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|_| {
            Error::Transport(TransportError::Tls {
                what: "no usable protocol versions",
            })
        })?
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)
        .map_err(|_| {
            Error::Transport(TransportError::Tls {
                what: "the certificate and key do not form a usable identity",
            })
        })?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// A TLS connector that trusts exactly `roots`.
///
/// # Errors
/// [`TransportError::Tls`] when no root certificate is usable.
pub fn connector(roots: &[CertificateDer<'static>]) -> Result<tokio_rustls::TlsConnector> {
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(roots.iter().cloned());
    if added == 0 {
        return Err(Error::Transport(TransportError::Tls {
            what: "no usable CA certificate",
        }));
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|_| {
            Error::Transport(TransportError::Tls {
                what: "no usable protocol versions",
            })
        })?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// How a client reaches the server.
#[derive(Clone)]
pub enum ClientTransport {
    /// Plain TCP (local experiments only).
    Plain,
    /// TLS, checking the server's certificate against `server_name`.
    Tls {
        /// The connector (its trusted roots).
        connector: tokio_rustls::TlsConnector,
        /// The name the certificate must carry.
        server_name: ServerName<'static>,
    },
}

impl core::fmt::Debug for ClientTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ClientTransport::Plain => f.write_str("Plain"),
            ClientTransport::Tls { server_name, .. } => f
                .debug_struct("Tls")
                .field("server_name", server_name)
                .finish_non_exhaustive(),
        }
    }
}

impl ClientTransport {
    /// TLS trusting the certificates in the PEM file `ca`, expecting `server_name`.
    ///
    /// # Errors
    /// [`TransportError::Tls`] for an unreadable file or an invalid name.
    pub fn tls_from_ca_file(ca: &Path, server_name: &str) -> Result<ClientTransport> {
        let roots = read_certs(ca)?;
        Self::tls(&roots, server_name)
    }

    /// TLS trusting `roots`, expecting `server_name`.
    ///
    /// # Errors
    /// [`TransportError::Tls`] for no usable root or an invalid name.
    pub fn tls(roots: &[CertificateDer<'static>], server_name: &str) -> Result<ClientTransport> {
        let server_name = ServerName::try_from(server_name.to_string()).map_err(|_| {
            Error::Transport(TransportError::Tls {
                what: "invalid server name",
            })
        })?;
        Ok(ClientTransport::Tls {
            connector: connector(roots)?,
            server_name,
        })
    }

    /// Wraps a connected socket.
    ///
    /// # Errors
    /// [`TransportError::Tls`] when the handshake fails (bad certificate, wrong name, not TLS).
    pub async fn wrap(&self, tcp: TcpStream) -> Result<BoxStream> {
        Ok(self.wrap_bound(tcp).await?.0)
    }

    /// As [`ClientTransport::wrap`], with the connection's channel binding (TLS: the
    /// exporter of [`CHANNEL_BINDING_LABEL`]; plain TCP: [`NO_BINDING`]).
    ///
    /// # Errors
    /// As [`ClientTransport::wrap`].
    pub async fn wrap_bound(&self, tcp: TcpStream) -> Result<(BoxStream, [u8; 32])> {
        match self {
            ClientTransport::Plain => Ok((Box::new(tcp), NO_BINDING)),
            ClientTransport::Tls {
                connector,
                server_name,
            } => {
                let s = connector
                    .connect(server_name.clone(), tcp)
                    .await
                    .map_err(|e| match e.kind() {
                        // The server closed the connection before answering (e.g. it
                        // sheds connections over its per-address limit): not a TLS
                        // failure, and worth another attempt.
                        std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::BrokenPipe => {
                            Error::Transport(TransportError::ConnectionClosed {
                                during: "the TLS handshake",
                            })
                        }
                        _ => Error::Transport(TransportError::Tls {
                            what: "handshake with the server failed",
                        }),
                    })?;
                let binding = exported(s.get_ref().1.export_keying_material(
                    [0u8; 32],
                    CHANNEL_BINDING_LABEL,
                    None,
                ))?;
                Ok((Box::new(s), binding))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_pem_round_trips() {
        let (id, pem) = Identity::self_signed(&["localhost".to_string()]).unwrap();
        let parsed = parse_certs(pem.as_bytes()).unwrap();
        assert_eq!(parsed, id.chain);
        assert!(connector(&parsed).is_ok());
        assert!(acceptor(id).is_ok());
        assert!(connector(&[]).is_err());
        assert!(parse_certs(b"").is_err());
        assert!(read_certs(Path::new("/nonexistent/cert.pem")).is_err());
        assert!(
            parse_certs(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n").is_err()
        );
    }

    #[test]
    fn identity_from_pem_files() {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let dir = std::env::temp_dir().join(format!("secagg-tls-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
        let id = Identity::from_pem_files(&cert, &key).unwrap();
        assert_eq!(id.chain, vec![ck.cert.der().clone()]);
        assert!(acceptor(id).is_ok());
        // A certificate file where the key should be.
        assert!(Identity::from_pem_files(&cert, &cert).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
