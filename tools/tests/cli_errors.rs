//! Hostile and broken streams: refused with one error line naming the unit and requirement,
//! a non-zero exit, no panic, and nothing written (least of all outside the output directory).

use dfc_decoder::{ElementType, LayerKind};
use dfc_encoder::{encode_stream, EncoderConfig, LayerInput, MethodChoice};
use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

mod common;
use common::dfc;

/// Checks a failed run: exit 1, one `dfc: ` line on stderr, no panic. Returns the line.
fn failed(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.starts_with("dfc: ") && err.lines().count() == 1,
        "{err:?}"
    );
    err
}

/// A zlib-coded stream of the named u8 tensors of shape [4, 8]. The encoder refuses names a
/// decoder could not write back, so they are set afterwards, as a hostile stream would have them.
fn stream_of(names: &[&str]) -> Vec<u8> {
    let data: Vec<Vec<u8>> = (0..names.len())
        .map(|i| (0..32u8).map(|x| x.wrapping_mul(i as u8 + 3)).collect())
        .collect();
    let layers: Vec<LayerInput<'_>> = (0..names.len())
        .zip(&data)
        .map(|(i, data)| LayerInput {
            name: format!("layer{i}"),
            kind: LayerKind::Conv,
            element_type: ElementType::Uint8,
            shape: vec![4, 8],
            data,
            method: MethodChoice::Fixed(dfc_decoder::CodingMethod::Zlib),
        })
        .collect();
    let stream = encode_stream(&layers, &EncoderConfig::default()).unwrap();
    // Units: sequence_header, then the layer_parameters units (no metadata by default).
    let ops: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
            format!("set:{}.name=hex:{hex}", i + 1)
        })
        .collect();
    dfc_conformance::mutate::apply_text(&stream, &ops).unwrap()
}

/// Every file below `dir`.
fn files_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn hostile_layer_names_are_refused() {
    for hostile in [
        "../evil",
        "a/../../evil",
        "/tmp/evil",
        "a//evil",
        "a\\..\\evil",
        "evil/",
        "./evil",
        "ev\0il",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        // The output directory is nested so that "../evil" would land inside tmp.
        let work = tmp.path().join("work");
        std::fs::create_dir(&work).unwrap();
        let stream = tmp.path().join("hostile.dfc");
        std::fs::write(&stream, stream_of(&["good", hostile])).unwrap();
        let out_dir = work.join("out");
        for output in [out_dir.clone(), work.join("out.safetensors")] {
            let out = dfc([
                OsStr::new("decode"),
                stream.as_os_str(),
                OsStr::new("-o"),
                output.as_os_str(),
            ]);
            let err = failed(&out);
            assert!(
                err.contains("cannot be used as a file name"),
                "{hostile:?}: {err}"
            );
            assert!(
                !output.exists(),
                "{hostile:?}: {} was written",
                output.display()
            );
        }
        // Nothing but the stream anywhere in the temporary tree.
        assert_eq!(files_below(tmp.path()), vec![stream.clone()], "{hostile:?}");
        assert!(!Path::new("/tmp/evil.npy").exists());

        // The benign layer alone can still be decoded.
        let out = dfc([
            OsStr::new("decode"),
            stream.as_os_str(),
            OsStr::new("-o"),
            out_dir.as_os_str(),
            OsStr::new("--layer"),
            OsStr::new("good"),
            OsStr::new("--quiet"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(files_below(&out_dir), vec![out_dir.join("good.npy")]);
    }
}

#[cfg(unix)]
#[test]
fn symbolic_links_out_of_the_output_directory_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&outside).unwrap();
    std::fs::create_dir(&out_dir).unwrap();
    std::os::unix::fs::symlink(&outside, out_dir.join("link")).unwrap();
    let stream = tmp.path().join("s.dfc");
    std::fs::write(&stream, stream_of(&["a", "link/b"])).unwrap();
    let out = dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        out_dir.as_os_str(),
    ]);
    let err = failed(&out);
    assert!(err.contains("is a symbolic link"), "{err}");
    assert!(files_below(&outside).is_empty());
    assert!(
        !out_dir.join("a.npy").exists(),
        "nothing is written when one tensor fails"
    );
}

#[test]
fn truncated_stream_names_unit_and_requirement_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let full = stream_of(&["first", "second", "third"]);
    // Units: sequence_header, 3 layer_parameters, then feature_data + tensor_hash per layer.
    // Cut in the middle of the second layer's feature_data unit (unit 6).
    let report = dfc_tools::inspect::scan(&full);
    let unit = &report.units[6];
    assert_eq!(unit.type_name, "feature_data");
    let cut = unit.offset as usize + 12;
    let stream = tmp.path().join("cut.dfc");
    std::fs::write(&stream, &full[..cut]).unwrap();

    let existing = tmp.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    for output in [
        tmp.path().join("new/dir"),
        existing.clone(),
        tmp.path().join("out.safetensors"),
    ] {
        let out = dfc([
            OsStr::new("decode"),
            stream.as_os_str(),
            OsStr::new("-o"),
            output.as_os_str(),
        ]);
        let err = failed(&out);
        let expected = format!(
            "dfc: {}: unit 6 (byte {}): the stream ends inside a unit [truncated, REQ-7.2-5]\n",
            stream.display(),
            unit.offset
        );
        assert_eq!(err, expected);
        if output == existing {
            assert!(
                files_below(&existing).is_empty(),
                "partial output left behind"
            );
        } else {
            assert!(!output.exists(), "{} was created", output.display());
        }
    }
    assert!(!tmp.path().join("new").exists());

    // inspect shows the units before the cut, then fails with the same error.
    let out = dfc([OsStr::new("inspect"), stream.as_os_str()]);
    let err = failed(&out);
    assert!(
        err.contains("unit 6 (byte") && err.contains("REQ-7.2-5"),
        "{err}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("second") && text.contains("tensor_hash"),
        "{text}"
    );
    let out = dfc([
        OsStr::new("inspect"),
        stream.as_os_str(),
        OsStr::new("--json"),
    ]);
    failed(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["units"].as_array().unwrap().len(), 6);
    assert_eq!(json["error"]["unit"], 6);
    assert_eq!(json["error"]["requirement"], "REQ-7.2-5");
    assert_eq!(json["error"]["class"], "truncated");
    let out = dfc([
        OsStr::new("inspect"),
        stream.as_os_str(),
        OsStr::new("--trace"),
    ]);
    failed(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("unit() #5"));

    // Cut between units: the end_of_sequence unit is missing.
    let eos_at = full.len() - 9;
    std::fs::write(&stream, &full[..eos_at]).unwrap();
    let out = dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        tmp.path().join("o2").as_os_str(),
    ]);
    let err = failed(&out);
    assert!(
        err.contains(&format!("(byte {eos_at})")) && err.contains("REQ-7.2-5"),
        "{err}"
    );
    assert!(!tmp.path().join("o2").exists());
}

#[test]
fn corrupt_unit_fails_on_its_crc() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = stream_of(&["a", "b"]);
    let report = dfc_tools::inspect::scan(&bytes);
    // Units: sequence_header, 2 layer_parameters, feature_data and tensor_hash of "a", then
    // the feature_data of "b" (unit 5).
    let unit = &report.units[5];
    assert_eq!(unit.type_name, "feature_data");
    bytes[unit.offset as usize + 12] ^= 1;
    let stream = tmp.path().join("crc.dfc");
    std::fs::write(&stream, &bytes).unwrap();
    let out = dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        tmp.path().join("o").as_os_str(),
    ]);
    let err = failed(&out);
    assert!(
        err.contains(&format!("unit 5 (byte {})", unit.offset)),
        "{err}"
    );
    assert!(err.contains("[corrupt, REQ-7.2-3]"), "{err}");
    assert!(!tmp.path().join("o").exists());
    // inspect lists every unit, flags the bad CRC, and fails.
    let out = dfc([
        OsStr::new("inspect"),
        stream.as_os_str(),
        OsStr::new("--json"),
    ]);
    failed(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let units = json["units"].as_array().unwrap();
    assert_eq!(units.len(), report.units.len());
    assert_eq!(units[4]["crc_ok"], true);
    assert_eq!(units[5]["crc_ok"], false);
    assert_eq!(units[6]["crc_ok"], true);
}

#[test]
fn not_a_stream_and_missing_files() {
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk.dfc");
    std::fs::write(&junk, b"hello world").unwrap();
    for cmd in ["decode", "inspect"] {
        let out = dfc([
            OsStr::new(cmd),
            junk.as_os_str(),
            OsStr::new("-o"),
            tmp.path().join("o").as_os_str(),
        ]);
        // inspect has no -o: clap's usage error (exit 2) is fine there.
        if cmd == "decode" {
            let err = failed(&out);
            assert!(
                err.contains("identification") && err.contains("REQ-7.1-1"),
                "{err}"
            );
        }
        let out = dfc([
            OsStr::new(cmd),
            tmp.path().join("missing.dfc").as_os_str(),
            OsStr::new("-o"),
            OsStr::new("x"),
        ]);
        assert!(!out.status.success());
    }
    let out = dfc([OsStr::new("inspect"), junk.as_os_str()]);
    let err = failed(&out);
    assert!(err.contains("REQ-7.1-1"), "{err}");
    assert!(!tmp.path().join("o").exists());
}

#[test]
fn failed_encode_leaves_no_file_and_keeps_the_old_one() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let t = dfc_tools::io::Tensor {
        element_type: ElementType::Float32,
        shape: vec![2],
        data: vec![0; 8],
    };
    std::fs::write(a.join("x.npy"), dfc_tools::io::npy::to_npy_bytes(&t)).unwrap();
    std::fs::write(b.join("x.npy"), dfc_tools::io::npy::to_npy_bytes(&t)).unwrap();
    let output = tmp.path().join("out.dfc");
    std::fs::write(&output, b"old").unwrap();
    // Both directories give a layer "x" (the old file may be replaced, but is not).
    let out = dfc([
        OsStr::new("encode"),
        a.as_os_str(),
        b.as_os_str(),
        OsStr::new("-o"),
        output.as_os_str(),
        OsStr::new("--force"),
    ]);
    let err = failed(&out);
    assert!(err.contains("\"x\" is used twice"), "{err}");
    assert_eq!(std::fs::read(&output).unwrap(), b"old");
    // Not a .npy file.
    let out = dfc([
        OsStr::new("encode"),
        output.as_os_str(),
        OsStr::new("-o"),
        tmp.path().join("new.dfc").as_os_str(),
    ]);
    failed(&out);
    // A level that is not defined is refused by the option parser.
    let out = dfc([
        OsStr::new("encode"),
        a.as_os_str(),
        OsStr::new("-o"),
        tmp.path().join("new.dfc").as_os_str(),
        OsStr::new("--level"),
        OsStr::new("2.5"),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not defined"));
    assert!(!tmp.path().join("new.dfc").exists());
    // Only the output and inputs remain: no temporary file was left behind.
    assert_eq!(
        files_below(tmp.path()),
        vec![a.join("x.npy"), b.join("x.npy"), output.clone()]
    );
}

#[test]
fn help_texts_explain_the_options() {
    for (cmd, words) in [
        (
            "encode",
            &[
                "--method",
                "--layer-method",
                "--kind",
                "--profile",
                "--level",
                "--no-hash",
                "--meta",
                "Example",
            ][..],
        ),
        (
            "decode",
            &["--layer", "--json", "<u2", "bfloat16", "Example"][..],
        ),
        ("inspect", &["--json", "--trace", "Example"][..]),
    ] {
        let out = dfc([cmd, "--help"]);
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        for w in words {
            assert!(text.contains(w), "dfc {cmd} --help lacks {w}:\n{text}");
        }
    }
}
