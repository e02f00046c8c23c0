//! The command line with users' files: outputs never replace an input, a device, a FIFO, a
//! socket or an existing file (without --force); `-` is standard input and output; output names
//! that collide are refused before anything is written; damaged units are isolated with
//! --keep-going.

use dfc_decoder::{CodingMethod, ElementType, LayerKind};
use dfc_encoder::{
    encode_sequence, encode_stream, EncoderConfig, FrameInput, LayerInput, MethodChoice,
    SequenceOptions,
};
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
use common::{dfc, ok};

fn layer<'a>(name: &str, data: &'a [u8], shape: Vec<u32>) -> LayerInput<'a> {
    LayerInput {
        name: name.to_string(),
        kind: LayerKind::Conv,
        element_type: ElementType::Uint8,
        shape,
        data,
        method: MethodChoice::Fixed(CodingMethod::Zlib),
    }
}

/// A zlib-coded stream of u8 layers of shape [4, 8].
fn stream_of(names: &[&str]) -> Vec<u8> {
    let data: Vec<Vec<u8>> = (0..names.len())
        .map(|i| (0..32u8).map(|x| x.wrapping_mul(i as u8 + 3)).collect())
        .collect();
    let layers: Vec<LayerInput<'_>> = names
        .iter()
        .zip(&data)
        .map(|(n, d)| layer(n, d, vec![4, 8]))
        .collect();
    encode_stream(&layers, &EncoderConfig::default()).unwrap()
}

fn failed(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn args(list: &[&dyn AsRef<OsStr>]) -> Vec<std::ffi::OsString> {
    list.iter().map(|a| a.as_ref().to_os_string()).collect()
}

/// The index of the unit whose summary in `dfc inspect` starts with `what`.
fn unit_index(stream: &[u8], type_name: &str, summary_start: &str) -> usize {
    let report = dfc_tools::inspect::scan(stream);
    report
        .units
        .iter()
        .position(|u| u.type_name == type_name && u.summary.starts_with(summary_start))
        .unwrap_or_else(|| panic!("no {type_name} unit {summary_start:?}"))
}

fn mutate(stream: &[u8], ops: &[String]) -> Vec<u8> {
    dfc_conformance::mutate::apply_text(stream, ops).unwrap()
}

#[cfg(unix)]
#[test]
fn outputs_that_are_not_regular_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.dfc");
    std::fs::write(&input, stream_of(&["a"])).unwrap();
    let npy = tmp.path().join("a.npy");
    let decoded = ok(dfc(args(&[
        &"decode", &input, &"-o", &"-", &"--layer", &"a",
    ])));
    std::fs::write(&npy, decoded.stdout).unwrap();
    let fifo = tmp.path().join("fifo.safetensors");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let socket = tmp.path().join("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let dir = tmp.path().join("dir");
    std::fs::create_dir(&dir).unwrap();
    for target in [
        PathBuf::from("/dev/null"),
        fifo.clone(),
        socket.clone(),
        dir.clone(),
    ] {
        let mut commands = vec![
            args(&[&"encode", &npy, &"-o", &target, &"--force"]),
            args(&[&"mutate", &input, &"-o", &target, &"crcflip:1", &"--force"]),
        ];
        if target != dir {
            // A .safetensors output or an output directory.
            commands.push(args(&[&"decode", &input, &"-o", &target, &"--force"]));
        }
        for command in commands {
            let err = failed(&dfc(&command));
            assert!(
                err.contains("not a regular file")
                    || err.contains("is a directory")
                    || err.contains("not a directory"),
                "{command:?}: {err}"
            );
        }
    }
    // The special files are untouched.
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()));
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(
        &std::fs::metadata("/dev/null").unwrap().file_type()
    ));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    // A directory output where a file is.
    let err = failed(&dfc(args(&[&"decode", &input, &"-o", &npy])));
    assert!(err.contains("not a directory"), "{err}");
}

#[cfg(unix)]
#[test]
fn inputs_and_existing_files_are_never_overwritten_without_force() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let stream = stream_of(&["a"]);
    let input = tmp.path().join("in.dfc");
    std::fs::write(&input, &stream).unwrap();
    // -o equal to the input, by its name, through a hard link and through a symbolic link,
    // even with --force.
    let hard = tmp.path().join("hard.dfc");
    std::fs::hard_link(&input, &hard).unwrap();
    let soft = tmp.path().join("soft.dfc");
    std::os::unix::fs::symlink(&input, &soft).unwrap();
    for out in [&input, &hard, &soft] {
        let err = failed(&dfc(args(&[
            &"mutate",
            &input,
            &"-o",
            out,
            &"crcflip:1",
            &"--force",
        ])));
        assert!(err.contains("it is an input"), "{err}");
    }
    assert_eq!(std::fs::read(&input).unwrap(), stream);

    // An existing output: refused, then replaced with --force keeping its permissions.
    let out = tmp.path().join("out.dfc");
    std::fs::write(&out, b"old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = failed(&dfc(args(&[&"mutate", &input, &"-o", &out, &"crcflip:1"])));
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"old");
    ok(dfc(args(&[
        &"mutate",
        &input,
        &"-o",
        &out,
        &"crcflip:1",
        &"-f",
    ])));
    assert_eq!(std::fs::read(&out).unwrap().len(), stream.len());
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);

    // A symbolic link is written through: the link stays, its target changes.
    let target = tmp.path().join("target.dfc");
    std::fs::write(&target, b"old").unwrap();
    let link = tmp.path().join("link.dfc");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    ok(dfc(args(&[
        &"mutate",
        &input,
        &"-o",
        &link,
        &"crcflip:1",
        &"-f",
    ])));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&target).unwrap().len(), stream.len());

    // A file below an input directory that the encoder reads is an input; another is not.
    let features = tmp.path().join("features");
    std::fs::create_dir(&features).unwrap();
    let npy = features.join("x.npy");
    let t = dfc_tools::io::Tensor {
        element_type: ElementType::Uint8,
        shape: vec![3],
        data: vec![1, 2, 3],
    };
    std::fs::write(&npy, dfc_tools::io::npy::to_npy_bytes(&t)).unwrap();
    let err = failed(&dfc(args(&[&"encode", &features, &"-o", &npy, &"-f"])));
    assert!(err.contains("it is an input"), "{err}");
    let old_stream = features.join("old.dfc");
    std::fs::write(&old_stream, b"old").unwrap();
    ok(dfc(args(&[
        &"encode",
        &features,
        &"-o",
        &old_stream,
        &"-f",
        &"-q",
    ])));

    // Existing files in an output directory.
    let dir = tmp.path().join("out");
    ok(dfc(args(&[&"decode", &input, &"-o", &dir, &"-q"])));
    std::fs::write(dir.join("a.npy"), b"mine").unwrap();
    let err = failed(&dfc(args(&[&"decode", &input, &"-o", &dir])));
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(dir.join("a.npy")).unwrap(), b"mine");
    ok(dfc(args(&[&"decode", &input, &"-o", &dir, &"-f", &"-q"])));
    assert_ne!(std::fs::read(dir.join("a.npy")).unwrap(), b"mine");
    // No staging directory is left behind.
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with(".dfc"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Runs `dfc` with `stdin` as its standard input.
fn dfc_with_stdin(arguments: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dfc"))
        .args(arguments)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn standard_input_to_standard_output_is_bit_exact() {
    let source = common::corpus().join("hed_vgg16/astronaut/pool4.npy");
    let npy = std::fs::read(&source).unwrap();
    // encode - -o -, then decode - -o - --layer stdin, through pipes.
    let stream = ok(dfc_with_stdin(
        &["encode", "-", "-o", "-", "--method", "native"],
        &npy,
    ));
    assert!(stream.stdout.starts_with(b"\x89DFC"));
    // The summary goes to standard error when the stream is on standard output.
    assert!(String::from_utf8_lossy(&stream.stderr).contains("stdin"));
    let decoded = ok(dfc_with_stdin(
        &["decode", "-", "-o", "-", "--layer", "stdin"],
        &stream.stdout,
    ));
    let original = dfc_tools::io::npy::read_npy_from(&npy[..]).unwrap();
    let back = dfc_tools::io::npy::read_npy_from(&decoded.stdout[..]).unwrap();
    assert_eq!(original, back);
    assert_eq!(
        decoded.stdout,
        dfc_tools::io::npy::to_npy_bytes(&original),
        "the .npy on standard output is the canonical file"
    );
    // The whole stream as .safetensors on standard output, and inspect of standard input.
    let st = ok(dfc_with_stdin(&["decode", "-", "-o", "-"], &stream.stdout));
    let tensors = dfc_tools::io::safetensors::read_safetensors_from(&st.stdout).unwrap();
    assert_eq!(tensors, vec![("stdin".to_string(), original)]);
    let inspect = ok(dfc_with_stdin(&["inspect", "-"], &stream.stdout));
    assert!(String::from_utf8_lossy(&inspect.stdout).contains("standard input"));
    // A damaged stream on standard input is reported like a file.
    let cut = &stream.stdout[..stream.stdout.len() - 3];
    let err = failed(&dfc_with_stdin(&["decode", "-", "-o", "-"], cut));
    assert!(
        err.contains("standard input") && err.contains("REQ-7.2-5"),
        "{err}"
    );
}

#[test]
fn every_subcommand_takes_quiet_verbose_and_version() {
    for sub in [
        "encode", "decode", "inspect", "bench", "conform", "mutate", "rd",
    ] {
        let out = ok(dfc([sub, "--version"]));
        assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
        let help = String::from_utf8_lossy(&ok(dfc([sub, "--help"])).stdout).into_owned();
        assert!(
            help.contains("--quiet") && help.contains("--verbose"),
            "{sub}: {help}"
        );
    }
    let top = String::from_utf8_lossy(&ok(dfc(["--help"])).stdout).into_owned();
    let about = top.lines().next().unwrap();
    for sub in [
        "encode", "decode", "inspect", "bench", "rd", "conform", "mutate",
    ] {
        assert!(about.contains(sub), "{about}");
    }
}

/// `stream` with the names of layers `ids` replaced (names the encoder refuses).
fn renamed(stream: &[u8], names: &[(usize, &str)]) -> Vec<u8> {
    let ops: Vec<String> = names
        .iter()
        .map(|(id, name)| {
            let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
            let unit = unit_index(stream, "layer_parameters", &format!("layer {id} "));
            format!("set:{unit}.name=hex:{hex}")
        })
        .collect();
    mutate(stream, &ops)
}

#[test]
fn colliding_and_reserved_output_names_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let one = [1u8];
    // Layer x has a frame 1; the other layer is named frame_01/x: both would be frame_01/x.
    let frames: Vec<FrameInput<'_>> = (0..2)
        .map(|f| FrameInput {
            frame_index: f,
            layers: vec![
                layer("x", &one, vec![1]),
                layer("yyyyyyyyyy", &one, vec![1]),
            ],
        })
        .collect();
    let sequence = encode_sequence(
        &frames,
        &EncoderConfig::default(),
        &SequenceOptions::default(),
    )
    .unwrap();
    let panic_stream = renamed(&sequence, &[(1, "frame_01/x")]);
    let config = EncoderConfig {
        metadata: vec![("k".into(), "v".into())],
        ..EncoderConfig::default()
    };
    let meta_stream = renamed(
        &encode_stream(&[layer("aaaaaaaaaaaa", &one, vec![1])], &config).unwrap(),
        &[(0, "__metadata__")],
    );
    let file_dir_stream = renamed(&stream_of(&["x", "aaaaaaa"]), &[(1, "x.npy/y")]);
    for (stream, expected) in [
        (&panic_stream, "reserved for the frame directories"),
        (&meta_stream, "metadata key"),
        (&file_dir_stream, "would be where"),
    ] {
        let input = tmp.path().join("s.dfc");
        std::fs::write(&input, stream).unwrap();
        for output in [tmp.path().join("out"), tmp.path().join("out.safetensors")] {
            let err = failed(&dfc(args(&[&"decode", &input, &"-o", &output])));
            assert!(err.contains(expected), "{err}");
            assert!(!output.exists());
        }
    }
    // The encoder refuses the same names.
    for name in ["../../x", "", "frame_01/x", "__metadata__", "a//b"] {
        let l = layer(name, &one, vec![1]);
        let e = encode_stream(&[l], &EncoderConfig::default()).unwrap_err();
        assert!(
            e.to_string().contains("cannot be written back"),
            "{name:?}: {e}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn many_frames_decode_to_a_directory() {
    // 20,000 one-element frames: files are closed as they are written and checked in constant
    // time (before, this failed with "Too many open files").
    let one = [7u8];
    let frames: Vec<FrameInput<'_>> = (0..20_000)
        .map(|f| FrameInput {
            frame_index: f,
            layers: vec![LayerInput {
                method: MethodChoice::Fixed(CodingMethod::Raw),
                ..layer("x", &one, vec![1])
            }],
        })
        .collect();
    let config = EncoderConfig {
        tensor_hashes: false,
        ..EncoderConfig::default()
    };
    let options = SequenceOptions {
        rap_period: 1000,
        ..SequenceOptions::default()
    };
    let stream = encode_sequence(&frames, &config, &options).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("frames.dfc");
    std::fs::write(&input, &stream).unwrap();
    let out = tmp.path().join("out");
    ok(dfc(args(&[&"decode", &input, &"-o", &out, &"-q"])));
    // Layer x of frame f at frame_ff/x.npy, as dfc encode reads a sequence.
    let frame_dirs = std::fs::read_dir(&out).unwrap().count();
    assert_eq!(frame_dirs, 20_000);
    assert!(out.join("frame_19999/x.npy").is_file());
}

#[test]
fn keep_going_decodes_every_layer_but_the_damaged_one() {
    let tmp = tempfile::tempdir().unwrap();
    let stream = stream_of(&["a", "b", "c"]);
    let b_unit = unit_index(&stream, "feature_data", "layer 1 frame 0");
    let b_offset = dfc_tools::inspect::scan(&stream).units[b_unit].offset;
    // The CRC of b's feature_data unit fails; then, separately, its payload does not inflate
    // (a good CRC).
    let crc = mutate(&stream, &[format!("crcflip:{b_unit}")]);
    let payload = mutate(&stream, &[format!("pwrite:{b_unit}@7=ffffffff")]);
    for (damaged, requirement) in [(crc, "REQ-7.2-3"), (payload, "REQ-8.3")] {
        let input = tmp.path().join("damaged.dfc");
        std::fs::write(&input, &damaged).unwrap();
        let plain = tmp.path().join("plain");
        let err = failed(&dfc(args(&[&"decode", &input, &"-o", &plain])));
        assert!(
            err.contains(requirement) && err.contains("layer \"b\""),
            "{err}"
        );
        assert!(!plain.exists());

        let out_dir = tmp.path().join(format!("out-{requirement}"));
        let out = dfc(args(&[&"decode", &input, &"-o", &out_dir, &"--keep-going"]));
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!(
                "unit {b_unit} (byte {b_offset}), layer \"b\" frame 0"
            )) && err.contains(requirement),
            "{err}"
        );
        assert!(out_dir.join("a.npy").is_file() && out_dir.join("c.npy").is_file());
        assert!(!out_dir.join("b.npy").exists());

        // --layer on an intact layer: with --keep-going it decodes; without, a CRC error of
        // another layer's unit still rejects the stream (clause 8.6, as the conformance suite
        // expects), a payload error does not (that payload is not decoded).
        let sel = tmp.path().join(format!("sel-{requirement}"));
        let out = dfc(args(&[
            &"decode",
            &input,
            &"-o",
            &sel,
            &"--layer",
            &"c",
            &"--keep-going",
        ]));
        assert!(out.status.code() == Some(3) || out.status.success());
        assert!(sel.join("c.npy").is_file());
        let sel2 = tmp.path().join(format!("sel2-{requirement}"));
        let plain = dfc(args(&[&"decode", &input, &"-o", &sel2, &"--layer", &"c"]));
        assert_eq!(plain.status.success(), requirement != "REQ-7.2-3");
    }
    // A late error (the stream cut inside c's unit) keeps the earlier tensors.
    let c_unit = unit_index(&stream, "feature_data", "layer 2 frame 0");
    let cut = dfc_tools::inspect::scan(&stream).units[c_unit].offset as usize + 9;
    let input = tmp.path().join("cut.dfc");
    std::fs::write(&input, &stream[..cut]).unwrap();
    let out_dir = tmp.path().join("out-cut");
    let out = dfc(args(&[&"decode", &input, &"-o", &out_dir, &"--keep-going"]));
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("REQ-7.2-5"));
    assert!(out_dir.join("a.npy").is_file() && out_dir.join("b.npy").is_file());
    assert!(!out_dir.join("c.npy").exists());
}

#[test]
fn keep_going_in_a_sequence_resumes_at_the_next_random_access_point() {
    let data: Vec<Vec<u8>> = (0..4u8)
        .map(|f| (0..64u8).map(|x| x / 4 + f).collect())
        .collect();
    let frames: Vec<FrameInput<'_>> = (0..4)
        .map(|f| FrameInput {
            frame_index: f as u32,
            layers: vec![
                LayerInput {
                    method: MethodChoice::Fixed(CodingMethod::Native),
                    ..layer("p", &data[f], vec![8, 8])
                },
                LayerInput {
                    method: MethodChoice::Fixed(CodingMethod::Native),
                    ..layer("q", &data[3 - f], vec![8, 8])
                },
            ],
        })
        .collect();
    let options = SequenceOptions {
        rap_period: 2,
        ..SequenceOptions::default()
    };
    let stream = encode_sequence(&frames, &EncoderConfig::default(), &options).unwrap();
    let p0 = unit_index(&stream, "feature_data", "layer 0 frame 0");
    let damaged = mutate(&stream, &[format!("crcflip:{p0}")]);
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("seq.dfc");
    std::fs::write(&input, &damaged).unwrap();
    let out_dir = tmp.path().join("out");
    let out = dfc(args(&[
        &"decode",
        &input,
        &"-o",
        &out_dir,
        &"--keep-going",
        &"--layout",
        &"frames",
    ]));
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("layer \"p\" frame 1") && err.contains("reference"),
        "{err}"
    );
    let mut got: Vec<String> = Vec::new();
    for f in 0..4 {
        for l in ["p", "q"] {
            let file = if f == 0 {
                format!("{l}.npy")
            } else {
                format!("frame_{f:02}/{l}.npy")
            };
            if out_dir.join(&file).exists() {
                got.push(file);
            }
        }
    }
    // p's frame 0 is lost, frame 1 may depend on it; frames 2 and 3 follow a random-access point.
    assert_eq!(
        got,
        [
            "q.npy",
            "frame_01/q.npy",
            "frame_02/p.npy",
            "frame_02/q.npy",
            "frame_03/p.npy",
            "frame_03/q.npy"
        ]
    );
    // What was written is exactly what an intact stream gives.
    let intact = tmp.path().join("intact.dfc");
    std::fs::write(&intact, &stream).unwrap();
    let ref_dir = tmp.path().join("ref");
    ok(dfc(args(&[
        &"decode",
        &intact,
        &"-o",
        &ref_dir,
        &"--layout",
        &"frames",
        &"-q",
    ])));
    for file in &got {
        assert_eq!(
            std::fs::read(out_dir.join(file)).unwrap(),
            std::fs::read(ref_dir.join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn start_frame_says_where_it_starts_and_refuses_frames_beyond_the_stream() {
    let one = [1u8];
    let frames: Vec<FrameInput<'_>> = (0..4)
        .map(|f| FrameInput {
            frame_index: f,
            layers: vec![layer("x", &one, vec![1])],
        })
        .collect();
    let options = SequenceOptions {
        rap_period: 8,
        ..SequenceOptions::default()
    };
    let stream = encode_sequence(&frames, &EncoderConfig::default(), &options).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("seq.dfc");
    std::fs::write(&input, &stream).unwrap();
    let out = ok(dfc(args(&[
        &"decode",
        &input,
        &"-o",
        &tmp.path().join("a"),
        &"--start-frame",
        &"2",
    ])));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("random-access point of frame 0") && err.contains("at or before frame 2"),
        "{err}"
    );
    let b = tmp.path().join("b");
    let err = failed(&dfc(args(&[
        &"decode",
        &input,
        &"-o",
        &b,
        &"--start-frame",
        &"999",
    ])));
    assert!(err.contains("frame 999 is beyond the stream"), "{err}");
    assert!(!b.exists());
}

#[test]
fn max_memory_refuses_before_decoding() {
    let tmp = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 1 << 20];
    let stream = encode_stream(
        &[layer("big", &zeros, vec![1024, 1024])],
        &EncoderConfig::default(),
    )
    .unwrap();
    let input = tmp.path().join("z.dfc");
    std::fs::write(&input, &stream).unwrap();
    let out = tmp.path().join("out.safetensors");
    let err = failed(&dfc(args(&[
        &"decode",
        &input,
        &"-o",
        &out,
        &"--max-memory",
        &"512K",
    ])));
    assert!(err.contains("above --max-memory 524288"), "{err}");
    assert!(!out.exists());
    ok(dfc(args(&[
        &"decode",
        &input,
        &"-o",
        &out,
        &"--max-memory",
        &"2M",
        &"-q",
    ])));
    assert!(out.is_file());
}

#[test]
fn inspect_trace_makes_the_decoders_checks() {
    // A layer above the level's MaxTensorElements: plain inspect and --trace both reject it
    // with the decoder's class and requirement.
    let stream = stream_of(&["a"]);
    let over = mutate(&stream, &["set:1.dims=4096x4096x64".to_string()]);
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("over.dfc");
    std::fs::write(&input, &over).unwrap();
    let plain = failed(&dfc(args(&[&"inspect", &input])));
    let trace = failed(&dfc(args(&[&"inspect", &input, &"--trace"])));
    let tail = |s: &str| s.rsplit_once(": unit").map(|(_, t)| t.to_string());
    assert!(trace.contains("limit_exceeded"), "{trace}");
    assert_eq!(tail(&plain), tail(&trace));
}

#[test]
fn encoder_messages_name_the_input_and_the_real_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let npy = tmp.path().join("one.npy");
    let t = dfc_tools::io::Tensor {
        element_type: ElementType::Float32,
        shape: vec![4],
        data: [1.0f32, f32::NAN, 2.0, 3.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
    };
    std::fs::write(&npy, dfc_tools::io::npy::to_npy_bytes(&t)).unwrap();
    let out = tmp.path().join("o.dfc");
    let err = failed(&dfc(args(&[&"encode", &npy, &"-o", &out, &"--bits", &"4"])));
    assert!(err.contains(&npy.display().to_string()), "{err}");
    assert!(!err.contains("o.dfc"), "{err}");
    // A negative PSNR is a number, not an option.
    let err = String::from_utf8_lossy(
        &dfc(args(&[
            &"encode",
            &npy,
            &"-o",
            &out,
            &"--target-psnr",
            &"-10",
        ]))
        .stderr,
    )
    .into_owned();
    assert!(!err.contains("unexpected argument"), "{err}");
    // Too many metadata entries is said as such.
    let mut many: Vec<std::ffi::OsString> = args(&[&"encode", &npy, &"-o", &out, &"-f"]);
    for i in 0..300 {
        many.push("--meta".into());
        many.push(format!("k{i}=v").into());
    }
    let err = failed(&dfc(many));
    assert!(err.contains("metadata entries, at most 255"), "{err}");
    // Frames of one layer with different shapes say so.
    let seq = tmp.path().join("seq");
    for (f, n) in [(0, 4u32), (1, 5)] {
        let dir = seq.join(format!("frame_{f:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        let t = dfc_tools::io::Tensor {
            element_type: ElementType::Uint8,
            shape: vec![n],
            data: vec![1; n as usize],
        };
        std::fs::write(dir.join("x.npy"), dfc_tools::io::npy::to_npy_bytes(&t)).unwrap();
    }
    let err = failed(&dfc(args(&[&"encode", &seq, &"-o", &out, &"-f"])));
    assert!(
        err.contains("frame 1 is uint8 [5]") && err.contains("first frame is uint8 [4]"),
        "{err}"
    );
    assert!(!Path::new(&out).exists() || std::fs::metadata(&out).is_ok());
}
