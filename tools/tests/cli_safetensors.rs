//! .safetensors in and out: every element type at ranks 1 to 4, with NaN payloads, -0.0, ±inf
//! and subnormals, kept bit for bit through `dfc encode` and `dfc decode`.

use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

mod common;
use common::{dfc, ok};

/// Special bit patterns of each type, then ordinary values.
fn elements(dtype: Dtype, count: usize) -> Vec<u8> {
    let specials32: &[u32] = &[
        0x7FC0_0001, // quiet NaN with payload
        0xFFC1_2345, // negative quiet NaN with payload
        0x7F80_0001, // signalling NaN
        0x8000_0000, // -0.0
        0x7F80_0000, // +inf
        0xFF80_0000, // -inf
        0x0000_0001, // smallest subnormal
        0x807F_FFFF, // largest negative subnormal
        0x3F80_0000, // 1.0
    ];
    let specials16: &[u16] = &[
        0x7E01, 0xFE23, 0x7C01, 0x8000, 0x7C00, 0xFC00, 0x0001, 0x83FF, 0x3C00,
    ];
    let specials_bf16: &[u16] = &[
        0x7FC1, 0xFFC3, 0x7F81, 0x8000, 0x7F80, 0xFF80, 0x0001, 0x807F, 0x3F80,
    ];
    let mut out = Vec::new();
    for i in 0..count {
        match dtype {
            Dtype::F32 => {
                let v = specials32
                    .get(i)
                    .copied()
                    .unwrap_or((i as f32 * -0.37).to_bits());
                out.extend_from_slice(&v.to_le_bytes());
            }
            Dtype::F16 | Dtype::BF16 => {
                let specials = if dtype == Dtype::F16 {
                    specials16
                } else {
                    specials_bf16
                };
                let v = specials
                    .get(i)
                    .copied()
                    .unwrap_or(0x3000 + (i as u16 * 37) % 0x1000);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Dtype::I8 => out.push((i as i32 * 37 - 128) as i8 as u8),
            Dtype::U8 => out.push((i * 53 % 256) as u8),
            _ => unreachable!(),
        }
    }
    out
}

/// Every dtype at ranks 1 to 4, by name.
fn make_tensors() -> BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)> {
    let shapes: [Vec<usize>; 4] = [vec![11], vec![3, 4], vec![2, 3, 5], vec![2, 1, 3, 4]];
    let mut tensors = BTreeMap::new();
    for (dtype, tag) in [
        (Dtype::F32, "f32"),
        (Dtype::F16, "f16"),
        (Dtype::BF16, "bf16"),
        (Dtype::I8, "i8"),
        (Dtype::U8, "u8"),
    ] {
        for shape in &shapes {
            let count: usize = shape.iter().product();
            tensors.insert(
                format!("{tag}/rank{}", shape.len()),
                (dtype, shape.clone(), elements(dtype, count)),
            );
        }
    }
    tensors
}

fn write_safetensors(path: &Path, tensors: &BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)>) {
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(name, (dtype, shape, data))| {
            (
                name.clone(),
                safetensors::tensor::TensorView::new(*dtype, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

#[test]
fn safetensors_round_trip_keeps_every_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.safetensors");
    let tensors = make_tensors();
    write_safetensors(&input, &tensors);

    for method in ["raw", "zlib", "gzip", "bzip2", "lzma", "native", "auto"] {
        let stream = tmp.path().join(format!("{method}.dfc"));
        ok(dfc([
            OsStr::new("encode"),
            input.as_os_str(),
            OsStr::new("-o"),
            stream.as_os_str(),
            OsStr::new("--method"),
            OsStr::new(method),
            OsStr::new("--quiet"),
        ]));
        let output = tmp.path().join(format!("{method}.safetensors"));
        ok(dfc([
            OsStr::new("decode"),
            stream.as_os_str(),
            OsStr::new("-o"),
            output.as_os_str(),
            OsStr::new("--quiet"),
        ]));
        let bytes = std::fs::read(&output).unwrap();
        let decoded = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(decoded.len(), tensors.len(), "{method}");
        for (name, (dtype, shape, data)) in &tensors {
            let view = decoded.tensor(name).unwrap();
            assert_eq!(view.dtype(), *dtype, "{method} {name}");
            assert_eq!(view.shape(), &shape[..], "{method} {name}");
            assert!(view.data() == &data[..], "{method} {name}: data differs");
        }
        let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = metadata.metadata().clone().unwrap();
        assert_eq!(metadata["source"], input.display().to_string());
    }

    // Layer kinds by rank: rank 1 is fc, the others conv.
    let out = ok(dfc([
        OsStr::new("inspect"),
        tmp.path().join("raw.dfc").as_os_str(),
        OsStr::new("--json"),
    ]));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for l in report["layers"].as_array().unwrap() {
        let expected = if l["shape"].as_array().unwrap().len() == 1 {
            "fc"
        } else {
            "conv"
        };
        assert_eq!(l["kind"], expected, "{l}");
    }
    assert_eq!(report["layers"][0]["name"], "bf16/rank1", "sorted by name");
}

#[test]
fn safetensors_to_npy_files() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.safetensors");
    let tensors = make_tensors();
    write_safetensors(&input, &tensors);
    let stream = tmp.path().join("s.dfc");
    ok(dfc([
        OsStr::new("encode"),
        input.as_os_str(),
        OsStr::new("-o"),
        stream.as_os_str(),
        OsStr::new("--quiet"),
    ]));
    let out_dir = tmp.path().join("npy");
    ok(dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        out_dir.as_os_str(),
        OsStr::new("--quiet"),
    ]));
    for (name, (dtype, shape, data)) in &tensors {
        let bytes = std::fs::read(out_dir.join(format!("{name}.npy"))).unwrap();
        let header_len = 10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!(header_len % 64, 0);
        let header = std::str::from_utf8(&bytes[10..header_len]).unwrap();
        let descr = match dtype {
            Dtype::F32 => "<f4",
            Dtype::F16 => "<f2",
            Dtype::BF16 => "<u2",
            Dtype::I8 => "|i1",
            Dtype::U8 => "|u1",
            _ => unreachable!(),
        };
        assert!(
            header.starts_with(&format!(
                "{{'descr': '{descr}', 'fortran_order': False, 'shape': ("
            )),
            "{header}"
        );
        assert!(bytes[header_len..] == data[..], "{name}");
        // And it reads back as the same tensor, except bfloat16 which .npy cannot name.
        let back = dfc_tools::io::npy::read_npy(&out_dir.join(format!("{name}.npy")));
        if *dtype == Dtype::BF16 {
            assert!(back.is_err());
        } else {
            let back = back.unwrap();
            assert_eq!(
                back.shape,
                shape.iter().map(|&d| d as u32).collect::<Vec<_>>()
            );
            assert_eq!(&back.data, data);
        }
    }
}

#[test]
fn unsupported_safetensors_dtype_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("f64.safetensors");
    let data = 1.5f64.to_le_bytes();
    let view = safetensors::tensor::TensorView::new(Dtype::F64, vec![1], &data).unwrap();
    std::fs::write(&input, safetensors::serialize([("x", view)], None).unwrap()).unwrap();
    let out_path = tmp.path().join("x.dfc");
    let out = dfc([
        OsStr::new("encode"),
        input.as_os_str(),
        OsStr::new("-o"),
        out_path.as_os_str(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("dfc: ") && err.contains("F64") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!out_path.exists());
}
