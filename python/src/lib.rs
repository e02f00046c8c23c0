//! `dfc._dfc`: the native part of the Python package. The `dfc` package wraps it (array
//! conversion, paths and file objects); both call what the `dfc` command line calls, so the
//! streams and the decoded tensors are the command line's.

use dfc_decoder::{DecodeError, DecodedTensor, Decoder, Location, StreamInfo};
use dfc_encoder::MethodChoice;
use dfc_tools::encode::{self, LossyArgs, NamedTensor};
use dfc_tools::io::StreamError;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict, PyList};
use std::io::Read;
use std::sync::Mutex;

/// `dfc.DecodeError` from a decoding failure: class, requirement and where.
fn decode_error(py: Python<'_>, e: &DecodeError) -> PyErr {
    let (unit, offset) = match e.location {
        Location::Identification => (None, None),
        // The decoder's marker for "after the last unit".
        Location::Unit { index, offset } => ((index != u64::MAX).then_some(index), Some(offset)),
    };
    let text = dfc_tools::io::error_text(e);
    let made = py
        .import("dfc._errors")
        .and_then(|m| m.getattr("DecodeError"))
        .and_then(|class| {
            class.call1((
                text,
                e.class.name(),
                e.requirement,
                unit,
                offset,
                e.message.clone(),
                e.layer.clone(),
                e.frame_index,
            ))
        });
    match made {
        Ok(value) => PyErr::from_value(value),
        Err(err) => err,
    }
}

fn python_error(py: Python<'_>, class: &str, message: String) -> PyErr {
    match py.import("dfc._errors").and_then(|m| m.getattr(class)) {
        Ok(class) => match class.call1((message,)) {
            Ok(value) => PyErr::from_value(value),
            Err(err) => err,
        },
        Err(err) => err,
    }
}

/// A failure of the command line's code: `DecodeError` when the stream is at fault, else
/// `ValueError` (an argument is).
fn tool_error(py: Python<'_>, e: anyhow::Error) -> PyErr {
    match e.downcast_ref::<StreamError>() {
        Some(StreamError(inner)) => decode_error(py, inner),
        None => PyValueError::new_err(format!("{e:#}")),
    }
}

fn method_choice(name: &str) -> Result<MethodChoice, String> {
    encode::parse_method(name)
}

/// One tensor to encode, as the `dfc` package hands it over: name, frame, kind, element type,
/// shape and the canonical bytes (a C-contiguous uint8 array).
type TensorArg<'py> = (
    String,
    Option<u32>,
    String,
    Vec<u32>,
    PyReadonlyArray1<'py, u8>,
);

/// Encodes tensors into one stream, as `dfc encode` does (see `dfc.encode`).
#[pyfunction]
#[pyo3(signature = (tensors, *, method, layer_methods, kinds, bits, qp, target_psnr, target_bpe,
    target_bitrate, fps, quantizer, channels, rdo, step_scale, prediction, profile, level, hashes,
    source, metadata, threads, rap_period))]
#[allow(clippy::too_many_arguments)]
fn encode_tensors<'py>(
    py: Python<'py>,
    tensors: Vec<TensorArg<'py>>,
    method: Option<String>,
    layer_methods: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    bits: Option<u8>,
    qp: Option<f64>,
    target_psnr: Option<f64>,
    target_bpe: Option<f64>,
    target_bitrate: Option<f64>,
    fps: Option<f64>,
    quantizer: String,
    channels: String,
    rdo: bool,
    step_scale: String,
    prediction: String,
    profile: String,
    level: Option<String>,
    hashes: bool,
    source: Option<String>,
    metadata: Vec<(String, String)>,
    threads: usize,
    rap_period: u32,
) -> PyResult<Bound<'py, PyBytes>> {
    let encode_error = |message: String| python_error(py, "EncodeError", message);
    let given = [
        bits.is_some(),
        qp.is_some(),
        target_psnr.is_some(),
        target_bpe.is_some(),
        target_bitrate.is_some(),
    ];
    if given.iter().filter(|&&g| g).count() > 1 {
        return Err(encode_error(
            "give at most one of bits, qp, target_psnr, target_bpe, target_bitrate".to_string(),
        ));
    }
    if target_bitrate.is_some() != fps.is_some() {
        return Err(encode_error(
            "target_bitrate and fps go together".to_string(),
        ));
    }
    if bits.is_some_and(|b| !(1..=16).contains(&b)) {
        return Err(encode_error("bits must be 1 to 16".to_string()));
    }
    if rap_period == 0 {
        return Err(encode_error("rap_period must be at least 1".to_string()));
    }
    let layer_methods = layer_methods
        .into_iter()
        .map(|(name, m)| Ok((name, method_choice(&m)?)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(encode_error)?;
    let kinds = kinds
        .into_iter()
        .map(|(name, k)| Ok((name, encode::parse_layer_kind(&k)?)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(encode_error)?;
    let options = encode::Options {
        method: method_choice(method.as_deref().unwrap_or("auto")).map_err(encode_error)?,
        method_given: method.is_some(),
        layer_methods,
        lossy: LossyArgs {
            bits,
            qp,
            target_psnr,
            target_bpe,
            target_bitrate,
            fps,
            quantizer,
            channels,
            rdo,
            no_rdo: false,
            step_scale,
            zero_threshold: None,
            prediction,
        },
        profile: encode::parse_profile(&profile).map_err(encode_error)?,
        level: level
            .as_deref()
            .map(encode::parse_level)
            .transpose()
            .map_err(encode_error)?,
        tensor_hashes: hashes,
        metadata: encode::metadata(source, &metadata),
        threads,
        rap_period,
    };
    let mut layers = Vec::with_capacity(tensors.len());
    for (name, frame, element_type, shape, data) in &tensors {
        let element_type = dfc_decoder::ElementType::from_name(element_type)
            .ok_or_else(|| encode_error(format!("{name}: unknown element type {element_type}")))?;
        layers.push(NamedTensor {
            name: name.clone(),
            frame: *frame,
            kind: dfc_decoder::LayerKind::Conv,
            element_type,
            shape: shape.clone(),
            data: data
                .as_slice()
                .map_err(|e| encode_error(format!("{name}: {e}")))?,
        });
    }
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    encode::check_names("kinds", &kinds, &names).map_err(|e| encode_error(format!("{e:#}")))?;
    for layer in &mut layers {
        layer.kind = match kinds.iter().rev().find(|(n, _)| *n == layer.name) {
            Some((_, k)) => *k,
            None => encode::default_kind(layer.shape.len()),
        };
    }
    let stream = py
        .detach(|| encode::encode_tensors(&layers, &options))
        .map_err(|e| encode_error(format!("{e:#}")))?;
    Ok(PyBytes::new(py, &stream))
}

/// A decoded tensor as the `dfc` package receives it: frame index, layer name, element type,
/// shape, and the canonical bytes as a uint8 array that owns the decoder's buffer (no copy).
type TensorOut<'py> = (
    u32,
    String,
    &'static str,
    Vec<u32>,
    Bound<'py, PyArray1<u8>>,
);

fn tensor_out<'py>(py: Python<'py>, info: &StreamInfo, t: DecodedTensor) -> TensorOut<'py> {
    let name = info.layers[usize::from(t.layer_id)].name.clone();
    (
        t.frame_index,
        name,
        t.element_type.name(),
        t.shape,
        PyArray1::from_vec(py, t.data),
    )
}

/// Decodes a whole stream held in memory: whether it is a sequence, and every tensor (see
/// `dfc.decode`).
#[pyfunction]
#[pyo3(signature = (data, *, layers, start_frame, threads))]
fn decode_stream<'py>(
    py: Python<'py>,
    data: PyBackedBytes,
    layers: Option<Vec<String>>,
    start_frame: Option<u32>,
    threads: usize,
) -> PyResult<(bool, Vec<TensorOut<'py>>)> {
    let layers = layers.unwrap_or_default();
    let (sequence, info, tensors) = py
        .detach(|| dfc_tools::decode::decode_tensors(&data, &layers, start_frame, threads))
        .map_err(|e| tool_error(py, e))?;
    let out = tensors
        .into_iter()
        .map(|t| tensor_out(py, &info, t))
        .collect();
    Ok((sequence, out))
}

/// What `dfc inspect --json` prints for a stream.
#[pyfunction]
fn inspect_json(py: Python<'_>, data: PyBackedBytes) -> PyResult<String> {
    py.detach(|| dfc_tools::inspect::scan(&data).to_json())
        .map_err(|e| PyValueError::new_err(format!("{e:#}")))
}

/// Reads from a Python binary file object (a pipe, a socket's makefile, an open file):
/// `read1` where it has one, so that a read returns what has arrived instead of waiting for a
/// full buffer.
struct PyReader {
    file: Py<PyAny>,
    method: &'static str,
}

impl Read for PyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Python::attach(|py| {
            let chunk = self
                .file
                .call_method1(py, self.method, (buf.len(),))
                .and_then(|c| c.extract::<PyBackedBytes>(py).map_err(PyErr::from))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            if chunk.len() > buf.len() {
                return Err(std::io::Error::other(format!(
                    "{}() returned {} bytes, more than the {} asked for",
                    self.method,
                    chunk.len(),
                    buf.len()
                )));
            }
            buf[..chunk.len()].copy_from_slice(&chunk);
            Ok(chunk.len())
        })
    }
}

type Source = Box<dyn Read + Send>;

/// A streaming decoder over bytes or a binary file object (see `dfc.Decoder`).
#[pyclass(module = "dfc._dfc")]
struct StreamDecoder {
    decoder: Mutex<Decoder<Source>>,
    info: StreamInfo,
}

#[pymethods]
impl StreamDecoder {
    /// `source` is bytes (held, not copied) or a binary file object; `start_frame` must be a
    /// random-access frame for a file object (for bytes, decoding starts at the last one at
    /// or before it).
    #[new]
    #[pyo3(signature = (source, *, layers, start_frame, threads))]
    fn new(
        py: Python<'_>,
        source: Bound<'_, PyAny>,
        layers: Option<Vec<String>>,
        start_frame: Option<u32>,
        threads: usize,
    ) -> PyResult<Self> {
        let (reader, start): (Source, Option<u32>) =
            if let Ok(bytes) = source.extract::<PyBackedBytes>() {
                let (_, start) = py
                    .detach(|| dfc_tools::decode::start_point(&bytes, start_frame))
                    .map_err(|e| tool_error(py, e))?;
                (Box::new(std::io::Cursor::new(bytes)), start)
            } else {
                let method = if source.hasattr("read1")? {
                    "read1"
                } else if source.hasattr("read")? {
                    "read"
                } else {
                    return Err(pyo3::exceptions::PyTypeError::new_err(
                        "source must be bytes or a binary file object",
                    ));
                };
                let file = source.unbind();
                (Box::new(PyReader { file, method }), start_frame)
            };
        let mut decoder = Decoder::with_options(reader, dfc_tools::decode::options(threads, start));
        let info = py
            .detach(|| decoder.info().cloned())
            .map_err(|e| decode_error(py, &e))?;
        if let Some(names) = layers.filter(|l| !l.is_empty()) {
            let ids = dfc_tools::decode::layer_ids(&info, &names).map_err(|e| tool_error(py, e))?;
            decoder.select_layers(ids);
        }
        Ok(StreamDecoder {
            decoder: Mutex::new(decoder),
            info,
        })
    }

    /// The layers the stream declares: id, name, kind, element type, shape, non-negative
    /// flag and default method.
    fn layers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for l in &self.info.layers {
            let d = PyDict::new(py);
            d.set_item("id", l.id)?;
            d.set_item("name", &l.name)?;
            d.set_item("kind", l.kind.name())?;
            d.set_item("element_type", l.element_type.name())?;
            d.set_item("shape", l.shape.clone())?;
            d.set_item("non_negative", l.non_negative)?;
            d.set_item("default_method", l.default_method.name())?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// The metadata entries read so far, in stream order.
    fn metadata(&self, py: Python<'_>) -> PyResult<Vec<(String, String)>> {
        let mut decoder = self.decoder.lock().map_err(|_| poisoned())?;
        // The header units were read by `new`, so this reads nothing.
        let info = decoder.info().map_err(|e| decode_error(py, &e))?;
        Ok(info.metadata.iter().flatten().cloned().collect())
    }

    /// The next decoded tensor, or None after the end of the stream.
    fn next_tensor<'py>(&self, py: Python<'py>) -> PyResult<Option<TensorOut<'py>>> {
        let next = py.detach(|| {
            let mut decoder = self.decoder.lock().map_err(|_| None)?;
            decoder.next_tensor().map_err(Some)
        });
        match next {
            Ok(t) => Ok(t.map(|t| tensor_out(py, &self.info, t))),
            Err(Some(e)) => Err(decode_error(py, &e)),
            Err(None) => Err(poisoned()),
        }
    }
}

fn poisoned() -> PyErr {
    pyo3::exceptions::PyRuntimeError::new_err("the decoder failed in another thread")
}

#[pymodule]
fn _dfc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(encode_tensors, m)?)?;
    m.add_function(wrap_pyfunction!(decode_stream, m)?)?;
    m.add_function(wrap_pyfunction!(inspect_json, m)?)?;
    m.add_class::<StreamDecoder>()?;
    m.add("ENCODER_VERSION", dfc_encoder::ENCODER_VERSION)?;
    m.add(
        "SPEC_VERSION",
        format!(
            "{}.{}",
            dfc_decoder::VERSION_MAJOR,
            dfc_decoder::VERSION_MINOR
        ),
    )?;
    Ok(())
}
