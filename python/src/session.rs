//! `secagg.Client` and `secagg.Server`: the protocol state machines, driven with bytes
//! (the wire format of `docs/wire-format.md`) and numpy float arrays.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use rand_chacha::ChaCha20Rng;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::{self as proto, ClientMessage, ServerMessage};
use secagg::session::FloatSession;
use secagg::ClientId;

use crate::arrays;
use crate::config::{decode_output, os_seed, parse_signing_key, Config};
use crate::errors::{misuse, IntoPy};
use crate::quant::{self, Aggregate};

/// One client of one session, driven by the framework's messaging: :meth:`start`
/// returns the first message to send; :meth:`handle` turns each server message into
/// the reply. The input is quantized when the client is created.
///
/// Any error aborts the client for good (the exception says why); a client that
/// completed or aborted refuses further messages.
#[pyclass(module = "secagg")]
pub struct Client {
    config: Arc<proto::Config>,
    inner: proto::Client,
    /// The round-0 message; `None` for a client restored with `from_bytes`.
    first: Option<Vec<u8>>,
    rng: ChaCha20Rng,
    /// `None` for a restored client.
    clipped: Option<usize>,
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (config, id, x, *, weight=1, signing_key=None, seed=None))]
    fn new(
        py: Python<'_>,
        config: &Config,
        id: ClientId,
        x: &Bound<'_, PyAny>,
        weight: u64,
        signing_key: Option<&[u8]>,
        seed: Option<&[u8]>,
    ) -> PyResult<Self> {
        let x = arrays::floats(x)?;
        let mut rng = seeded_rng(match seed {
            Some(s) => quant::seed32(s)?,
            None => os_seed(),
        });
        let sk = parse_signing_key(signing_key)?;
        let cfg = Arc::clone(config.inner());
        let (inner, first, clipped) = py
            .detach(|| -> secagg::Result<_> {
                let (input, clipped) = config.encode_input(&x, weight, &mut rng)?;
                let (client, msg) =
                    proto::Client::new(Arc::clone(&cfg), id, vec![input], sk, &mut rng)?;
                Ok((client, msg.encode(&cfg)?, clipped))
            })
            .py_err()?;
        Ok(Self {
            config: cfg,
            inner,
            first: Some(first),
            rng,
            clipped: Some(clipped),
        })
    }

    /// The round-0 message (advertised keys) to send to the server. Calling it again
    /// returns the same bytes (for retransmission). A client restored with
    /// :meth:`from_bytes` does not have it (``MisuseError``).
    fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        match &self.first {
            Some(first) => Ok(PyBytes::new(py, first)),
            None => Err(misuse(
                "Restored",
                "a restored client has no round-0 message: send the one the original client returned".to_owned(),
            )),
        }
    }

    /// The client's state as bytes, to store between messages (e.g. in a framework's
    /// per-node state) and restore with :meth:`from_bytes` and the same config.
    ///
    /// **The state is a secret**: it holds the client's secret keys, its quantized input
    /// and the shares it holds of its neighbors' secrets. Python cannot wipe a
    /// ``bytes`` object: keep it no longer than needed, where only this client can read
    /// it. Store the state after every :meth:`handle` *before* sending the reply, and
    /// never restore an older one (a client restored to before its last reply could
    /// answer a second unmasking request and reveal both shares of a neighbor).
    /// Raises ``MisuseError`` for an aborted client.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let state = self.inner.to_bytes().py_err()?;
        Ok(PyBytes::new(py, &state))
    }

    /// Restores a client stored with :meth:`to_bytes` under the same ``config``.
    ///
    /// Raises ``MisuseError`` (``StateSessionMismatch``) for a state of another session,
    /// ``EncodingError`` for bytes that are not a stored client. ``seed`` as for the
    /// constructor.
    #[staticmethod]
    #[pyo3(signature = (config, state, *, seed=None))]
    fn from_bytes(
        py: Python<'_>,
        config: &Config,
        state: &[u8],
        seed: Option<&[u8]>,
    ) -> PyResult<Self> {
        let rng = seeded_rng(match seed {
            Some(s) => quant::seed32(s)?,
            None => os_seed(),
        });
        let cfg = Arc::clone(config.inner());
        let inner = py
            .detach(|| proto::Client::from_bytes(Arc::clone(&cfg), state))
            .py_err()?;
        Ok(Self {
            config: cfg,
            inner,
            first: None,
            rng,
            clipped: None,
        })
    }

    /// Handles one server message and returns the reply to send.
    ///
    /// Raises ``EncodingError`` for bytes that do not decode, ``PeerMisbehavedError`` or
    /// ``CryptoError`` for a server that broke the protocol, ``MisuseError`` for a
    /// message out of order or after the end; the client is then aborted.
    fn handle<'py>(&mut self, py: Python<'py>, message: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let Self {
            config, inner, rng, ..
        } = self;
        let out = py
            .detach(|| -> secagg::Result<Vec<u8>> {
                let msg = ServerMessage::decode(config, message)?;
                inner.handle(msg, rng)?.encode(config)
            })
            .py_err()?;
        Ok(PyBytes::new(py, &out))
    }

    /// The client's id.
    #[getter]
    fn id(&self) -> Option<ClientId> {
        self.inner.id()
    }

    /// The name of the current state (``'KeysAdvertised'``, ..., ``'Completed'``,
    /// ``'Aborted'``).
    #[getter]
    fn state(&self) -> &'static str {
        self.inner.state_name()
    }

    /// Whether the client completed the session (sent its last message).
    #[getter]
    fn completed(&self) -> bool {
        self.inner.is_completed()
    }

    /// The message of the error that aborted the client, or ``None``.
    #[getter]
    fn error(&self) -> Option<String> {
        self.inner.error().map(ToString::to_string)
    }

    /// How many input elements were clipped to ``[-clip, clip]`` (``None`` for a
    /// restored client).
    #[getter]
    fn clipped(&self) -> Option<usize> {
        self.clipped
    }

    fn __repr__(&self) -> String {
        format!("Client(state='{}')", self.inner.state_name())
    }
}

/// The server of one session: feed it each client's bytes with :meth:`receive`, and call
/// :meth:`close_round` when the round's deadline passed (whoever has not answered has
/// dropped out). ``close_round`` returns the message for each surviving client; after
/// the last round it returns ``{}`` and :meth:`result` holds the float sum and the ids
/// of the clients it contains.
#[pyclass(module = "secagg")]
pub struct Server {
    config: Arc<proto::Config>,
    session: FloatSession,
    inner: proto::Server,
}

#[pymethods]
impl Server {
    #[new]
    fn new(config: &Config) -> Self {
        Self {
            config: Arc::clone(config.inner()),
            session: config.session.clone(),
            inner: proto::Server::new(Arc::clone(config.inner())),
        }
    }

    /// The server's state as bytes, to store between rounds and restore with
    /// :meth:`from_bytes` and the same config (it holds only what the server may know:
    /// public keys, sealed shares, masked sums, revealed shares). Raises ``MisuseError``
    /// for an aborted server.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let state = py.detach(|| self.inner.to_bytes()).py_err()?;
        Ok(PyBytes::new(py, &state))
    }

    /// Restores a server stored with :meth:`to_bytes` under the same ``config``.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, config: &Config, state: &[u8]) -> PyResult<Self> {
        let cfg = Arc::clone(config.inner());
        let inner = py
            .detach(|| proto::Server::from_bytes(Arc::clone(&cfg), state))
            .py_err()?;
        Ok(Self {
            config: cfg,
            session: config.session.clone(),
            inner,
        })
    }

    /// Accepts one client's message for the current round.
    ///
    /// A rejected message (``EncodingError`` for bytes that do not decode, or the
    /// protocol's checks) leaves the server as it was: the driver may treat that client
    /// as dropped out.
    fn receive(&mut self, py: Python<'_>, client_id: ClientId, message: &[u8]) -> PyResult<()> {
        let Self { config, inner, .. } = self;
        py.detach(|| -> secagg::Result<()> {
            let msg = ClientMessage::decode(config, client_id, message)?;
            inner.receive(client_id, msg)
        })
        .py_err()
    }

    /// Closes the current round (its deadline passed): returns ``{client_id: bytes}``, the
    /// next message for each surviving client, or ``{}`` when the session completed.
    ///
    /// Raises ``ThresholdError`` when too few clients survive (the session aborts).
    fn close_round<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let Self { config, inner, .. } = self;
        let out = py
            .detach(|| -> secagg::Result<Vec<(ClientId, Vec<u8>)>> {
                inner
                    .close_round()?
                    .into_iter()
                    .map(|(id, m)| Ok((id, m.encode(config)?)))
                    .collect()
            })
            .py_err()?;
        let d = PyDict::new(py);
        for (id, bytes) in out {
            d.set_item(id, PyBytes::new(py, &bytes))?;
        }
        Ok(d)
    }

    /// The round being collected (``'AdvertiseKeys'``, ``'ShareKeys'``,
    /// ``'MaskedInputCollection'``, ``'ConsistencyCheck'``, ``'Unmasking'``).
    #[getter]
    fn round(&self) -> &'static str {
        self.inner.round().name()
    }

    /// Clients whose message for the current round is still awaited.
    #[getter]
    fn awaited(&self) -> Vec<ClientId> {
        self.inner.awaited()
    }

    /// Clients whose message for the current round arrived.
    #[getter]
    fn received(&self) -> Vec<ClientId> {
        self.inner.received()
    }

    /// Whether the session completed.
    #[getter]
    fn completed(&self) -> bool {
        self.inner.output().is_some()
    }

    /// The message of the error that aborted the session, or ``None``.
    #[getter]
    fn error(&self) -> Option<String> {
        self.inner.error().map(ToString::to_string)
    }

    /// The ids of the clients whose inputs the sum contains (sorted), or ``None`` before
    /// the session completed.
    #[getter]
    fn included(&self) -> Option<Vec<ClientId>> {
        self.inner.output().map(|o| o.included.clone())
    }

    /// The decoded float sum of the included clients (an :class:`Aggregate` with
    /// ``included`` set). Raises ``MisuseError`` before the session completed.
    fn result(&self, py: Python<'_>) -> PyResult<Aggregate> {
        match (self.inner.output(), self.inner.error()) {
            (Some(output), _) => decode_output(py, &self.session, output),
            (None, Some(e)) => Err(crate::errors::to_py(e.clone())),
            (None, None) => Err(crate::errors::misuse(
                "NotCompleted",
                format!(
                    "the session is still running (round {})",
                    self.inner.round().name()
                ),
            )),
        }
    }
}
