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

use pyo3::exceptions::PyValueError;
use secagg::session::Encoded;

use crate::config::{client_id, decode_output, encode_input, os_seed, parse_signing_key, Config};
use crate::errors::{clip_error, misuse, ClipWarning, IntoPy};
use crate::layout::Layout;
use crate::quant::{self, Aggregate};

/// What a client does when its input has values outside ``[-clip, clip]``.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OnClip {
    Ignore,
    Warn,
    Raise,
}

impl OnClip {
    fn parse(s: &str) -> PyResult<OnClip> {
        match s {
            "ignore" => Ok(OnClip::Ignore),
            "warn" => Ok(OnClip::Warn),
            "raise" => Ok(OnClip::Raise),
            other => Err(PyValueError::new_err(format!(
                "on_clip must be 'ignore', 'warn' or 'raise', not {other:?}"
            ))),
        }
    }
}

/// One client of one session, driven by the framework's messaging: :meth:`start`
/// returns the first message to send; :meth:`handle` turns each server message into
/// the reply.
///
/// ``x`` is the client's input: one array for a ``Config(n, dim)`` session (any shape
/// with ``dim`` elements), or for a ``vectors`` session a dict ``name -> array``
/// (exactly the session's names and shapes) or a list of arrays in order. Any float
/// array-like is accepted (any float dtype; ``bytes``/``bytearray``/``memoryview`` read
/// as float64). The input is quantized at once and kept only inside the Rust state.
///
/// ``x=None`` defers the input: the client advertises and shares its keys without it,
/// and :meth:`provide_input` gives it before the masked-input round
/// (:attr:`needs_input` says when it is due). Handling the round-2 message without it
/// raises ``MisuseError`` (``InputMissing``) and leaves the client as it was.
///
/// ``on_clip``: ``'ignore'`` (default), ``'warn'`` (a :class:`ClipWarning` when any
/// element was clipped) or ``'raise'`` (:class:`ClipError`, and the input is refused).
///
/// Any other error aborts the client for good (the exception says why); a client that
/// completed or aborted refuses further messages.
#[pyclass(module = "secagg")]
pub struct Client {
    config: Arc<proto::Config>,
    session: FloatSession,
    layout: Arc<Layout>,
    inner: proto::Client,
    /// The round-0 message; `None` for a client restored with `from_bytes`.
    first: Option<Vec<u8>>,
    rng: ChaCha20Rng,
    /// `None` until this object encoded an input (and for a restored client).
    clipped: Option<usize>,
    on_clip: OnClip,
}

impl Client {
    /// Reads, encodes and applies the clipping policy to one input.
    fn encode(&mut self, py: Python<'_>, x: &Bound<'_, PyAny>, weight: u64) -> PyResult<Encoded> {
        let xs = self.layout.read_input(x)?;
        let Self { session, rng, .. } = self;
        let encoded = py
            .detach(|| encode_input(session, &xs, weight, rng))
            .py_err()?;
        check_clipped(
            py,
            self.on_clip,
            encoded.clipped(),
            session.quantizer().config().clip,
        )?;
        Ok(encoded)
    }
}

fn check_clipped(py: Python<'_>, on_clip: OnClip, clipped: usize, clip: f64) -> PyResult<()> {
    if clipped == 0 {
        return Ok(());
    }
    let msg = format!("{clipped} input elements lay outside [-{clip}, {clip}] and were clipped");
    match on_clip {
        OnClip::Ignore => Ok(()),
        OnClip::Warn => PyErr::warn(
            py,
            &py.get_type::<ClipWarning>(),
            &std::ffi::CString::new(msg)?,
            1,
        ),
        OnClip::Raise => Err(clip_error(msg)),
    }
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (config, id, x=None, *, weight=1, signing_key=None, seed=None, on_clip="ignore"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        config: &Config,
        id: &Bound<'_, PyAny>,
        x: Option<&Bound<'_, PyAny>>,
        weight: u64,
        signing_key: Option<&[u8]>,
        seed: Option<&[u8]>,
        on_clip: &str,
    ) -> PyResult<Self> {
        let on_clip = OnClip::parse(on_clip)?;
        let cfg = Arc::clone(config.inner());
        let id = client_id(id, cfg.n())?;
        let xs = x.map(|x| config.read_input(x)).transpose()?;
        let mut rng = seeded_rng(match seed {
            Some(s) => quant::seed32(s)?,
            None => os_seed(),
        });
        let sk = parse_signing_key(signing_key)?;
        let session = config.session.clone();
        let encoded = match &xs {
            Some(xs) => {
                let e = py
                    .detach(|| encode_input(&session, xs, weight, &mut rng))
                    .py_err()?;
                check_clipped(py, on_clip, e.clipped(), session.quantizer().config().clip)?;
                Some(e)
            }
            None => None,
        };
        drop(xs);
        let clipped = encoded.as_ref().map(Encoded::clipped);
        let (inner, first) = py
            .detach(|| -> secagg::Result<_> {
                let (client, msg) = match encoded {
                    Some(e) => {
                        proto::Client::new(Arc::clone(&cfg), id, e.into_vectors(), sk, &mut rng)?
                    }
                    None => proto::Client::new_deferred(Arc::clone(&cfg), id, sk, &mut rng)?,
                };
                Ok((client, msg.encode(&cfg)?))
            })
            .py_err()?;
        Ok(Self {
            config: cfg,
            session,
            layout: Arc::clone(&config.layout),
            inner,
            first: Some(first),
            rng,
            clipped,
            on_clip,
        })
    }

    /// Gives a client created without its input (``x=None``) its input, in the same
    /// forms as the constructor's ``x``, with integer ``weight``. Allowed until the
    /// masked-input round (:attr:`accepts_input`).
    ///
    /// Raises ``MisuseError`` (``InputNotExpected``) when the client has an input or is
    /// past the round that uses it, ``MisuseError`` for an input that does not fit the
    /// session, :class:`ClipError` under ``on_clip='raise'``; the client is left as it
    /// was in every case.
    #[pyo3(signature = (x, weight=1))]
    fn provide_input(&mut self, py: Python<'_>, x: &Bound<'_, PyAny>, weight: u64) -> PyResult<()> {
        if !self.inner.accepts_input() {
            return Err(crate::errors::to_py(secagg::Error::Misuse(
                secagg::Misuse::InputNotExpected {
                    state: self.inner.state_name(),
                },
            )));
        }
        let encoded = self.encode(py, x, weight)?;
        let clipped = encoded.clipped();
        self.inner.provide_inputs(encoded.into_vectors()).py_err()?;
        self.clipped = Some(clipped);
        Ok(())
    }

    /// Whether the next message to handle (the round-2 ``RoutedShares``) needs the input
    /// and the client has none yet: call :meth:`provide_input` first.
    #[getter]
    fn needs_input(&self) -> bool {
        self.inner.needs_input()
    }

    /// Whether :meth:`provide_input` would take an input now (the client was created
    /// without one, has not been given one, and has not reached the masked-input round).
    #[getter]
    fn accepts_input(&self) -> bool {
        self.inner.accepts_input()
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
    /// (once given: a client stored before :meth:`provide_input` holds none) and the shares it holds of its neighbors' secrets. Python cannot wipe a
    /// ``bytes`` object: keep it no longer than needed, where only this client can read
    /// it. Store the state after every :meth:`handle` *before* sending the reply, and
    /// never restore an older one (a client restored to before its last reply could
    /// answer a second unmasking request and reveal both shares of a neighbor).
    /// Raises ``MisuseError`` for an aborted client.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let state = self.inner.to_bytes().py_err()?;
        Ok(PyBytes::new(py, &state))
    }

    /// Restores a client stored with :meth:`to_bytes` under the same ``config`` (in any
    /// state, with or without its input). ``on_clip`` as for the constructor, for an
    /// input given later with :meth:`provide_input`.
    ///
    /// Raises ``MisuseError`` (``StateSessionMismatch``) for a state of another session,
    /// ``EncodingError`` for bytes that are not a stored client. ``seed`` as for the
    /// constructor.
    #[staticmethod]
    #[pyo3(signature = (config, state, *, seed=None, on_clip="ignore"))]
    fn from_bytes(
        py: Python<'_>,
        config: &Config,
        state: &[u8],
        seed: Option<&[u8]>,
        on_clip: &str,
    ) -> PyResult<Self> {
        let on_clip = OnClip::parse(on_clip)?;
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
            session: config.session.clone(),
            layout: Arc::clone(&config.layout),
            inner,
            first: None,
            rng,
            clipped: None,
            on_clip,
        })
    }

    /// Handles one server message and returns the reply to send.
    ///
    /// Raises ``EncodingError`` for bytes that do not decode, ``PeerMisbehavedError`` or
    /// ``CryptoError`` for a server that broke the protocol, ``MisuseError`` for a
    /// message out of order or after the end; the client is then aborted. The exception:
    /// the round-2 message for a client that has no input yet raises ``MisuseError``
    /// (``InputMissing``) and leaves it as it was (give the input and handle the same
    /// message again).
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

    /// How many input elements were clipped to ``[-clip, clip]``, over all vectors
    /// (``None`` before an input was given, and for a restored client).
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
    layout: Arc<Layout>,
    inner: proto::Server,
}

#[pymethods]
impl Server {
    #[new]
    fn new(config: &Config) -> Self {
        Self {
            config: Arc::clone(config.inner()),
            session: config.session.clone(),
            layout: Arc::clone(&config.layout),
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
            layout: Arc::clone(&config.layout),
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
    /// ``included`` set; for a ``vectors`` session its ``sum`` and ``mean()`` are dicts
    /// ``name -> array`` of the original shapes and dtypes). Raises ``MisuseError`` before the session completed.
    fn result(&self, py: Python<'_>) -> PyResult<Aggregate> {
        match (self.inner.output(), self.inner.error()) {
            (Some(output), _) => decode_output(py, &self.session, &self.layout, output),
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
