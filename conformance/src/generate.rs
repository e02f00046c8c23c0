//! The generator: makes every case of the [catalogue](crate::catalogue), checks it against the
//! reference decoder, and writes `<suite>/<group>/<ID>/{stream.dfc, expect.json, description.md}`
//! and the suite's `README.md` index. Generation is deterministic, so [`check`] can tell whether
//! the files on disk are exactly what the generator makes.

use crate::catalogue::{self, Base, Case, Group, Source};
use crate::expect::{Exercises, Expect, Expected, Generator, StreamFile, HASH_DEFINITION};
use crate::mutate::{self, Units};
use crate::recipe::{self, ExpectedTensor};
use crate::{hex, sha256_hex};
use bitstream_io::{BigEndian, BitReader, FromBitStream, FromBitStreamWith};
use dfc_decoder::syntax::{
    EndOfSequence, FeatureData, FieldValue, FieldVisitor, Identification, LayerParameters,
    Metadata, SequenceHeader, SyntaxStructure, TensorHash,
};
use dfc_decoder::{
    CodingMethod, DecodeError, ElementType, LevelLimits, Location, Profile, UnitType,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Name of the stream file in a case folder.
pub const STREAM_FILE: &str = "stream.dfc";
pub const EXPECT_FILE: &str = "expect.json";
pub const DESCRIPTION_FILE: &str = "description.md";

/// One generated case: its files and what it expects.
pub struct Generated {
    pub group: Group,
    pub id: String,
    pub stream: Vec<u8>,
    pub expect: Expect,
    pub description: String,
}

impl Generated {
    pub fn key(&self) -> String {
        format!("{}/{}", self.group.name(), self.id)
    }

    /// The files of the case folder, by name.
    pub fn files(&self) -> Vec<(&'static str, Vec<u8>)> {
        vec![
            (STREAM_FILE, self.stream.clone()),
            (EXPECT_FILE, expect_json(&self.expect).into_bytes()),
            (DESCRIPTION_FILE, self.description.clone().into_bytes()),
        ]
    }
}

/// `expect.json` text: pretty JSON with arrays of scalars on one line, and a final newline.
pub fn expect_json(expect: &Expect) -> String {
    let text = serde_json::to_string_pretty(expect).expect("serializable");
    let mut out = String::with_capacity(text.len());
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.ends_with('[') {
            // Find the closing line; join if every element is a scalar.
            let indent = line.len() - line.trim_start().len();
            let close = (i + 1..lines.len()).find(|&j| {
                let l = lines[j];
                l.len() - l.trim_start().len() == indent && l.trim_start().starts_with(']')
            });
            if let Some(close) = close {
                let items: Vec<&str> = lines[i + 1..close].iter().map(|l| l.trim()).collect();
                let scalar = |l: &&str| {
                    !(l.starts_with('{')
                        || l.starts_with('[')
                        || l.starts_with('}')
                        || l.starts_with(']'))
                };
                if items.iter().all(scalar) {
                    out.push_str(line);
                    out.push_str(&items.join(" "));
                    out.push_str(lines[close].trim_start());
                    out.push('\n');
                    i = close + 1;
                    continue;
                }
            }
        }
        out.push_str(line);
        out.push('\n');
        i += 1;
    }
    out
}

/// Generates the cases whose `group/ID` is in `only` (all when `None`), with the bases they
/// need. `root` is the repository root, for the corpus crops.
pub fn generate(root: &Path, only: Option<&BTreeSet<String>>) -> Result<Vec<Generated>, String> {
    let cases = catalogue::all();
    let mut keys = BTreeSet::new();
    for case in &cases {
        if !keys.insert(case.key()) {
            return Err(format!("the catalogue has two cases {}", case.key()));
        }
    }
    if let Some(only) = only {
        for key in only {
            if !keys.contains(key) {
                return Err(format!("no case {key} in the catalogue"));
            }
        }
    }
    // The cases needed: the requested ones and, transitively, their bases.
    let mut needed: BTreeSet<String> = match only {
        Some(only) => only.clone(),
        None => keys.clone(),
    };
    for case in cases.iter().rev() {
        if needed.contains(&case.key()) {
            if let Source::Mutation { base, .. } = &case.source {
                needed.insert(base.clone());
            }
        }
    }
    let mut done: BTreeMap<String, Generated> = BTreeMap::new();
    let mut order = Vec::new();
    for case in &cases {
        if !needed.contains(&case.key()) {
            continue;
        }
        let generated =
            generate_case(case, root, &done).map_err(|e| format!("{}: {e}", case.key()))?;
        order.push(case.key());
        done.insert(case.key(), generated);
    }
    Ok(order
        .into_iter()
        .filter(|k| only.is_none_or(|o| o.contains(k)))
        .map(|k| done.remove(&k).expect("generated"))
        .collect())
}

fn generate_case(
    case: &Case,
    root: &Path,
    done: &BTreeMap<String, Generated>,
) -> Result<Generated, String> {
    let command = format!("dfc conform generate --case {}", case.key());
    let mut generator = Generator {
        tool: format!("dfc-conformance {}", crate::GENERATOR_VERSION),
        encoder_version: dfc_encoder::ENCODER_VERSION.to_string(),
        command,
        recipe: None,
        base: None,
        ops: Vec::new(),
        mutate_command: None,
    };
    let mut hand = Vec::new();
    let (stream, recipe_tensors, base_hashes) = match &case.source {
        Source::Recipe(r) => {
            if case.outputs.is_some() {
                return Err("hand-computed outputs are for mutated cases".into());
            }
            let built = recipe::build(r, root)?;
            generator.recipe = Some(built.recipe);
            (built.stream, Some(built.tensors), None)
        }
        Source::Mutation { base, ops } => {
            let base_case = done
                .get(base)
                .ok_or_else(|| format!("base {base} must come before the case"))?;
            let base_stream = Base::new(base_case.stream.clone());
            let ops = ops(&base_stream);
            if let Some(outputs) = &case.outputs {
                hand = outputs(&base_stream);
            }
            let stream = mutate::apply_text(&base_case.stream, &ops).map_err(|e| e.to_string())?;
            generator.mutate_command = Some(mutate_command(base, &case.key(), &ops));
            generator.base = Some(base.clone());
            generator.ops = ops;
            let hashes: BTreeSet<String> = match &base_case.expect.expected {
                Expected::Decode { tensors, .. } => {
                    tensors.iter().map(|t| t.sha256.clone()).collect()
                }
                Expected::Reject { .. } => BTreeSet::new(),
            };
            (stream, None, Some(hashes))
        }
    };
    if let Some(check) = &case.check {
        check(&stream)?;
    }
    let decoded = reference_decode(&stream, case.select_layer.as_deref(), case.start_frame);
    let expected = match (case.group, decoded) {
        (Group::Invalid, Ok(tensors)) => {
            return Err(format!(
                "the reference decoder decodes the stream ({} tensors); it must be rejected",
                tensors.len()
            ))
        }
        (Group::Invalid, Err(e)) => {
            let wanted = case
                .requirements
                .first()
                .ok_or("an invalid case names the requirement it breaks")?;
            if e.requirement != wanted {
                return Err(format!(
                    "rejected for {} ({e}), the case is about {wanted}",
                    e.requirement
                ));
            }
            // An ID the spec does not define yet is reported by the sources test.
            if let Some(class) = crate::sources::class_of(wanted) {
                if e.class.name() != class {
                    return Err(format!(
                        "the decoder reports class {} for {wanted}, the spec says {class}",
                        e.class
                    ));
                }
            }
            rejection(&e)
        }
        (_, Err(e)) => return Err(format!("the reference decoder rejects the stream: {e}")),
        (_, Ok(got)) => {
            let tensors: Vec<ExpectedTensor> = match recipe_tensors {
                Some(all) => {
                    let want: Vec<ExpectedTensor> = all
                        .into_iter()
                        .filter(|t| case.select_layer.as_ref().is_none_or(|s| *s == t.name))
                        .filter(|t| case.start_frame.is_none_or(|f| t.frame_index >= f))
                        .collect();
                    if want != got {
                        return Err(format!(
                            "the reference decoder's output differs from the recipe's tensors:\n  recipe:  {want:?}\n  decoder: {got:?}"
                        ));
                    }
                    want
                }
                None => {
                    let base = base_hashes.expect("mutation");
                    for t in &got {
                        let by_hand = hand
                            .iter()
                            .find(|h| h.layer_id == t.layer_id && h.frame_index == t.frame_index);
                        match by_hand {
                            Some(h) if sha256_hex(&h.data) != t.sha256 => {
                                return Err(format!(
                                    "decoded tensor {} frame {} differs from the hand-computed one",
                                    t.name, t.frame_index
                                ))
                            }
                            Some(_) => {}
                            None if !base.contains(&t.sha256) => {
                                return Err(format!(
                                    "decoded tensor {} frame {} is not one of the base's tensors",
                                    t.name, t.frame_index
                                ))
                            }
                            None => {}
                        }
                    }
                    if let Some(h) = hand.iter().find(|h| {
                        !got.iter()
                            .any(|t| t.layer_id == h.layer_id && t.frame_index == h.frame_index)
                    }) {
                        return Err(format!(
                            "layer {} frame {} is not decoded",
                            h.layer_id, h.frame_index
                        ));
                    }
                    got
                }
            };
            Expected::Decode {
                hash_definition: HASH_DEFINITION.to_string(),
                tensors,
            }
        }
    };
    let (profile, level) = signalled(&stream);
    let expect = Expect {
        id: case.id.clone(),
        group: case.group.name().to_string(),
        spec_version: crate::spec_version(),
        profile,
        level,
        purpose: case.purpose.clone(),
        exercises: exercises(&stream, &case.requirements),
        stream: StreamFile {
            file: STREAM_FILE.to_string(),
            bytes: stream.len() as u64,
            sha256: sha256_hex(&stream),
        },
        select_layer: case.select_layer.clone(),
        start_frame: case.start_frame,
        expected,
        generator,
    };
    let description = description(&expect);
    Ok(Generated {
        group: case.group,
        id: case.id.clone(),
        stream,
        expect,
        description,
    })
}

/// The reference decoder's output in the form of `expect.json`, with an optional layer
/// selection and start frame (clause 8.6).
pub fn reference_decode(
    stream: &[u8],
    select: Option<&str>,
    start_frame: Option<u32>,
) -> Result<Vec<ExpectedTensor>, DecodeError> {
    let options = dfc_decoder::DecodeOptions {
        start_frame,
        ..dfc_decoder::DecodeOptions::default()
    };
    let mut decoder = dfc_decoder::Decoder::with_options(stream, options);
    let names: Vec<String> = decoder
        .info()?
        .layers
        .iter()
        .map(|l| l.name.clone())
        .collect();
    if let Some(name) = select {
        let id = names.iter().position(|n| n == name).unwrap_or(usize::MAX);
        decoder.select_layers([id as u16]);
    }
    let tensors = decoder.decode_to_end()?;
    Ok(tensors
        .into_iter()
        .map(|t| ExpectedTensor {
            layer_id: t.layer_id,
            name: names[usize::from(t.layer_id)].clone(),
            frame_index: t.frame_index,
            element_type: t.element_type.name().to_string(),
            shape: t.shape.clone(),
            bytes: t.data.len() as u64,
            sha256: sha256_hex(&t.data),
            verified: t.hash_verified,
            file: recipe::tensor_file(&names[usize::from(t.layer_id)], t.frame_index),
        })
        .collect())
}

/// The `reject` expectation for a decoder error.
pub fn rejection(e: &DecodeError) -> Expected {
    let (location, unit_index, byte_offset) = location_fields(&e.location);
    Expected::Reject {
        class: e.class.name().to_string(),
        requirement: e.requirement.to_string(),
        location: location.to_string(),
        unit_index,
        byte_offset,
    }
}

/// (`location`, `unit_index`, `byte_offset`) of a decoder error location.
pub fn location_fields(location: &Location) -> (&'static str, Option<u64>, Option<u64>) {
    match *location {
        Location::Identification => ("identification", None, None),
        Location::Unit {
            index: u64::MAX,
            offset,
        } => ("end_of_stream", None, Some(offset)),
        Location::Unit { index, offset } => ("unit", Some(index), Some(offset)),
    }
}

/// Profile and level names the stream signals.
fn signalled(stream: &[u8]) -> (String, String) {
    match catalogue::sequence_header(stream) {
        None => (
            "none (no sequence header)".into(),
            "none (no sequence header)".into(),
        ),
        Some(h) => (
            Profile::from_code(h.profile_idc)
                .map_or(format!("profile_idc {} (reserved)", h.profile_idc), |p| {
                    p.name().to_string()
                }),
            LevelLimits::from_idc(h.level_idc)
                .map_or(format!("level_idc {} (reserved)", h.level_idc), |l| {
                    l.name()
                }),
        ),
    }
}

/// What the stream contains, read without the decoder's checks.
fn exercises(stream: &[u8], requirements: &[String]) -> Exercises {
    struct Names<'a>(&'static str, &'a mut BTreeSet<String>);
    impl FieldVisitor for Names<'_> {
        fn field(&mut self, name: &'static str, _: FieldValue<'_>) {
            self.1.insert(format!("{}.{name}", self.0));
        }
    }
    fn visit<S: SyntaxStructure>(s: &S, out: &mut BTreeSet<String>) {
        s.visit_fields(&mut Names(S::NAME.trim_end_matches("()"), out));
    }
    let mut syntax = BTreeSet::new();
    let mut unit_types = BTreeSet::new();
    let mut methods = BTreeSet::new();
    let mut element_types = BTreeSet::new();
    let mut ranks = BTreeSet::new();
    if stream.len() >= 6 {
        let id = Identification::from_reader(&mut BitReader::endian(&stream[..6], BigEndian))
            .expect("six bytes");
        visit(&id, &mut syntax);
    }
    let units = Units::parse(stream);
    for unit in &units.units {
        visit(unit, &mut syntax);
        let mut r = BitReader::endian(&unit.payload[..], BigEndian);
        let size = unit.payload_size;
        match UnitType::from_code(unit.unit_type) {
            Some(t) => {
                unit_types.insert(t.name().to_string());
                match t {
                    UnitType::SequenceHeader => {
                        if let Ok(s) = SequenceHeader::from_reader(&mut r) {
                            visit(&s, &mut syntax);
                        }
                    }
                    UnitType::LayerParameters => {
                        if let Ok(p) = LayerParameters::from_reader(&mut r) {
                            visit(&p, &mut syntax);
                            element_types.insert(
                                ElementType::from_code(p.element_type)
                                    .map_or(format!("reserved ({})", p.element_type), |t| {
                                        t.name().to_string()
                                    }),
                            );
                            ranks.insert(p.dims.len());
                        }
                    }
                    UnitType::FeatureData => {
                        if let Ok(f) = FeatureData::from_reader(&mut r, &size) {
                            visit(&f, &mut syntax);
                            methods.insert(
                                CodingMethod::from_code(f.coding_method)
                                    .map_or(format!("reserved ({})", f.coding_method), |m| {
                                        m.name().to_string()
                                    }),
                            );
                        }
                    }
                    UnitType::TensorHash => {
                        if let Ok(h) = TensorHash::from_reader(&mut r, &size) {
                            visit(&h, &mut syntax);
                        }
                    }
                    UnitType::Metadata => {
                        if let Ok(m) = Metadata::from_reader(&mut r) {
                            visit(&m, &mut syntax);
                        }
                    }
                    UnitType::EndOfSequence => visit(&EndOfSequence, &mut syntax),
                    UnitType::FrameHeader => {
                        if let Ok(h) = dfc_decoder::syntax::FrameHeader::from_reader(&mut r) {
                            visit(&h, &mut syntax);
                        }
                    }
                }
            }
            None => {
                unit_types.insert(match unit.unit_type {
                    0 => "forbidden (0x00)".to_string(),
                    t if t < dfc_decoder::types::FIRST_SKIPPABLE_UNIT_TYPE => {
                        format!("reserved_critical (0x{t:02X})")
                    }
                    t => format!("reserved_skippable (0x{t:02X})"),
                });
            }
        }
    }
    Exercises {
        requirements: requirements.to_vec(),
        unit_types: unit_types.into_iter().collect(),
        coding_methods: methods.into_iter().collect(),
        element_types: element_types.into_iter().collect(),
        ranks: ranks.into_iter().collect(),
        syntax_elements: syntax.into_iter().collect(),
    }
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@=,+%".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn mutate_command(base: &str, key: &str, ops: &[String]) -> String {
    let mut cmd =
        format!("dfc mutate bitstreams/{base}/{STREAM_FILE} -o bitstreams/{key}/{STREAM_FILE}");
    for op in ops {
        cmd.push(' ');
        cmd.push_str(&shell_quote(op));
    }
    cmd
}

fn description(e: &Expect) -> String {
    let mut s = format!("# {}/{}\n\n{}\n\n", e.group, e.id, e.purpose);
    let outcome = match &e.expected {
        Expected::Decode { tensors, .. } => {
            let verified = tensors.iter().filter(|t| t.verified).count();
            format!(
                "decodes to {} tensor(s), {verified} verified by a tensor_hash unit",
                tensors.len()
            )
        }
        Expected::Reject {
            class,
            requirement,
            location,
            unit_index,
            byte_offset,
        } => {
            let at = match (location.as_str(), unit_index, byte_offset) {
                ("unit", Some(i), Some(o)) => format!("unit {i} (byte {o})"),
                ("end_of_stream", _, Some(o)) => {
                    format!("the end of the stream (byte {o}), where a unit should start")
                }
                _ => "the identification".to_string(),
            };
            format!("rejected: class `{class}`, {requirement}, at {at}")
        }
    };
    let rows = [
        ("Expected", outcome),
        ("Requirements", e.exercises.requirements.join(", ")),
        ("Profile, level", format!("{}, {}", e.profile, e.level)),
        (
            "Layer selection",
            e.select_layer
                .as_ref()
                .map_or("none (every layer)".to_string(), |l| {
                    format!("only layer {l:?}")
                }),
        ),
        (
            "Stream",
            format!(
                "`{}`, {} bytes, SHA-256 `{}`",
                e.stream.file, e.stream.bytes, e.stream.sha256
            ),
        ),
        (
            "Made by",
            match &e.generator.mutate_command {
                Some(cmd) => format!("`{cmd}`"),
                None => format!(
                    "`{}` (reference encoder {}, recipe in expect.json)",
                    e.generator.command, e.generator.encoder_version
                ),
            },
        ),
    ];
    let mut rows = rows.to_vec();
    if let Some(f) = e.start_frame {
        rows.insert(
            4,
            (
                "Start frame",
                format!("decode from the random-access frame_header of frame {f} (clause 8.6)"),
            ),
        );
    }
    s.push_str("| | |\n|---|---|\n");
    for (k, v) in rows {
        s.push_str(&format!("| {k} | {} |\n", v.replace('|', "\\|")));
    }
    s
}

/// The suite's README.md: layout, schema, and an index of every case.
pub fn suite_readme(cases: &[Generated]) -> String {
    let mut s = String::from(SUITE_README_HEAD);
    for group in Group::ALL {
        let in_group: Vec<&Generated> = cases.iter().filter(|c| c.group == group).collect();
        s.push_str(&format!(
            "\n## {}/ ({} cases)\n\n| case | expected | purpose |\n|---|---|---|\n",
            group.name(),
            in_group.len()
        ));
        for c in in_group {
            let expected = match &c.expect.expected {
                Expected::Decode { tensors, .. } => format!("{} tensor(s)", tensors.len()),
                Expected::Reject {
                    class, requirement, ..
                } => format!("{class}, {requirement}"),
            };
            s.push_str(&format!(
                "| [`{}`]({}/{}/) | {expected} | {} |\n",
                c.id,
                group.name(),
                c.id,
                c.expect.purpose.replace('|', "\\|")
            ));
        }
    }
    s
}

const SUITE_README_HEAD: &str = "# Golden bitstreams (DFC conformance suite)

Generated by `dfc conform generate` from the case catalogue in `conformance/src/catalogue.rs`;
do not edit by hand. Run the suite with `dfc conform` (see `conformance/README.md`).

One folder per case, `<group>/<ID>/`:

- `stream.dfc`: the stream;
- `expect.json`: id, group, spec version, signalled profile and level, purpose, what it exercises
  (requirement IDs, unit types, coding methods, element types, ranks, syntax elements), the size
  and SHA-256 of the stream, an optional layer selection (`select_layer`), an optional start
  frame (`start_frame`: decode from that random-access frame_header), the expected result,
  and the generator (tool and encoder versions, the command that regenerates the case, and
  either the encoder recipe or the base case and the `dfc mutate` operations);
- `description.md`: the same in a few lines.

The expected result is either `decode`, with every output tensor in order (layer, frame, element
type, shape, byte count N, SHA-256 of its N canonical bytes, whether a tensor_hash unit verifies
it, and the file the external-decoder protocol puts it in), or `reject`, with the error class,
the requirement ID and where (`identification`, `unit` with its index, or `end_of_stream`).

Groups:

- `valid/`: conforming streams; must decode to exactly the expected tensors;
- `uncommon/`: conforming streams a decoder may find unusual: largest level sizes, empty
  metadata, reserved-skippable units, alternative but valid payload encodings;
- `invalid/`: each breaks one requirement (the first one met in the order of the checks of
  spec clause 8) and must be rejected. Every requirement ID of the spec has at least one.
";

/// Writes generated cases under `suite`. With `all`, also writes the suite README and Table D-1
/// of the spec next to the suite (`../spec/dfc-spec.md`), and removes
/// case folders (with an `expect.json`) that the catalogue no longer has. Returns the paths
/// written or removed.
pub fn write(suite: &Path, cases: &[Generated], all: bool) -> std::io::Result<Vec<PathBuf>> {
    let mut touched = Vec::new();
    for c in cases {
        let dir = suite.join(c.group.name()).join(&c.id);
        std::fs::create_dir_all(&dir)?;
        for (name, bytes) in c.files() {
            let path = dir.join(name);
            if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
                std::fs::write(&path, &bytes)?;
                touched.push(path);
            }
        }
    }
    if all {
        let readme = suite.join("README.md");
        let text = suite_readme(cases);
        if std::fs::read_to_string(&readme).ok().as_deref() != Some(&text) {
            std::fs::write(&readme, text)?;
            touched.push(readme);
        }
        if let Some((path, old, new)) = spec_with_clause_table(suite, cases) {
            if old != new {
                std::fs::write(&path, new)?;
                touched.push(path);
            }
        }
        let keep: BTreeSet<String> = cases.iter().map(Generated::key).collect();
        for stale in stale_dirs(suite, &keep)? {
            std::fs::remove_dir_all(&stale)?;
            touched.push(stale);
        }
    }
    Ok(touched)
}

/// Case folders on disk (those with an `expect.json`) whose `group/ID` is not in `keep`.
fn stale_dirs(suite: &Path, keep: &BTreeSet<String>) -> std::io::Result<Vec<PathBuf>> {
    let mut stale = Vec::new();
    for group in Group::ALL {
        let Ok(entries) = std::fs::read_dir(suite.join(group.name())) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            let key = format!(
                "{}/{}",
                group.name(),
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            if path.join(EXPECT_FILE).is_file() && !keep.contains(&key) {
                stale.push(path);
            }
        }
    }
    stale.sort();
    Ok(stale)
}

/// Compares generated cases with the files under `suite`; returns one line per difference.
/// With `all`, the suite README and stale case folders count too.
pub fn check(suite: &Path, cases: &[Generated], all: bool) -> Vec<String> {
    let mut diffs = Vec::new();
    for c in cases {
        let dir = suite.join(c.group.name()).join(&c.id);
        for (name, bytes) in c.files() {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(on_disk) if on_disk == bytes => {}
                Ok(on_disk) => diffs.push(format!(
                    "{}: differs from what the generator makes ({} bytes on disk, {} generated{})",
                    path.display(),
                    on_disk.len(),
                    bytes.len(),
                    first_difference(&on_disk, &bytes)
                )),
                Err(e) => diffs.push(format!("{}: {e}", path.display())),
            }
        }
    }
    if all {
        let readme = suite.join("README.md");
        if std::fs::read_to_string(&readme).ok().as_deref() != Some(suite_readme(cases).as_str()) {
            diffs.push(format!(
                "{}: differs from the generated index",
                readme.display()
            ));
        }
        if let Some((path, old, new)) = spec_with_clause_table(suite, cases) {
            if old != new {
                diffs.push(format!(
                    "{}: Table D-1 differs from the one generated from the cases",
                    path.display()
                ));
            }
        }
        let keep: BTreeSet<String> = cases.iter().map(Generated::key).collect();
        match stale_dirs(suite, &keep) {
            Ok(stale) => diffs.extend(
                stale
                    .iter()
                    .map(|p| format!("{}: not in the catalogue", p.display())),
            ),
            Err(e) => diffs.push(format!("{}: {e}", suite.display())),
        }
    }
    diffs
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => format!(
            ", first at byte {i}: {} vs {}",
            hex::encode(&a[i..(i + 8).min(a.len())]),
            hex::encode(&b[i..(i + 8).min(b.len())])
        ),
        None => String::new(),
    }
}

/// Regenerates a case from the generator arguments recorded in its `expect.json` alone (the
/// recipe, or the base stream on disk and the operations) and returns the stream.
pub fn regenerate_from_record(
    suite: &Path,
    root: &Path,
    expect: &Expect,
) -> Result<Vec<u8>, String> {
    let g = &expect.generator;
    match (&g.recipe, &g.base) {
        (Some(r), None) => recipe::build(r, root).map(|b| b.stream),
        (None, Some(base)) => {
            let path = suite.join(base).join(STREAM_FILE);
            let base_stream =
                std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            mutate::apply_text(&base_stream, &g.ops).map_err(|e| e.to_string())
        }
        _ => Err("expect.json records neither a recipe nor a base".into()),
    }
}

/// The clauses of Table D-1 (spec Annex D): clause, title, and whether a case exercises it.
const CLAUSES: &[(&str, &str)] = &[
    ("5.2", "Unit order"),
    ("7.1", "Identification"),
    ("7.2", "Units: types, CRC, payload sizes"),
    ("7.3", "Sequence header"),
    ("7.4", "Layer parameters"),
    ("7.5", "Feature data"),
    ("7.6", "Tensor hash"),
    ("7.7", "Metadata"),
    ("7.11", "Frame header"),
    (
        "8.3",
        "Coding methods: length and end of payloads, check order",
    ),
    ("8.3.1", "raw"),
    ("8.3.2", "zlib"),
    ("8.3.3", "gzip"),
    ("8.3.4", "bzip2"),
    ("8.3.5", "lzma"),
    ("8.3.6", "native"),
    ("8.3.7", "quantized"),
    ("8.4", "Canonical layout, negative elements"),
    ("8.5", "Tensor hash verification"),
    ("8.6", "Layer selection and random access"),
    ("8.7", "Reference tensors"),
    ("A.1", "Profiles"),
    ("A.2", "Levels"),
];

/// Whether a case exercises `clause`: it targets one of the clause's requirements, or for the
/// coding methods uses the method, for clause 7.11 has frame_header units, for clause 8.6
/// selects a layer or starts at a random-access point, for clause 8.7 predicts from a
/// reference (REQ-8.3.6-8, REQ-8.3.7-7).
fn exercises_clause(e: &Expect, clause: &str) -> bool {
    let x = &e.exercises;
    let prefix = format!("REQ-{clause}-");
    if x.requirements.iter().any(|r| r.starts_with(&prefix)) {
        return true;
    }
    let method = |name: &str| x.coding_methods.iter().any(|m| m == name);
    match clause {
        "8.3.1" => method("raw"),
        "8.3.2" => method("zlib"),
        "8.3.3" => method("gzip"),
        "8.3.4" => method("bzip2"),
        "8.3.5" => method("lzma"),
        "8.3.6" => method("native"),
        "8.3.7" => method("quantized"),
        "7.11" => x.unit_types.iter().any(|t| t == "frame_header"),
        "8.6" => e.select_layer.is_some() || e.start_frame.is_some(),
        "8.7" => x
            .requirements
            .iter()
            .any(|r| r == "REQ-8.3.6-8" || r == "REQ-8.3.7-7"),
        _ => false,
    }
}

/// Table D-1 of the spec (Annex D): for each clause, how many cases of each group exercise it,
/// and the first ones.
pub fn clause_table(cases: &[Generated]) -> String {
    let mut s = String::from(
        "*Table D-1 — conformance cases by clause (generated from the `expect.json` files by `dfc conform generate`)*\n\n\
         | Clause | Subject | valid | uncommon | invalid | for example |\n|---|---|---|---|---|---|\n",
    );
    for &(clause, title) in CLAUSES {
        let of = |g: Group| -> Vec<&Generated> {
            cases
                .iter()
                .filter(|c| c.group == g && exercises_clause(&c.expect, clause))
                .collect()
        };
        let groups = Group::ALL.map(of);
        // The first case named after the clause (`req-<clause>-…`) or its method, else the
        // first case.
        let subject = title.split(':').next().unwrap_or(title);
        let named = |c: &&&Generated| {
            c.id.starts_with(&format!("req-{}-", clause.to_lowercase()))
                || (clause.starts_with("8.3.") && c.id.contains(subject))
        };
        let examples: Vec<String> = groups
            .iter()
            .filter_map(|g| g.iter().find(named).or(g.first()))
            .map(|c| format!("`{}`", c.key()))
            .collect();
        s.push_str(&format!(
            "| {clause} | {title} | {} | {} | {} | {} |\n",
            groups[0].len(),
            groups[1].len(),
            groups[2].len(),
            examples.join(", ")
        ));
    }
    s
}

/// The lines that delimit Table D-1 in the spec.
const CLAUSE_TABLE_BEGIN: &str = "<!-- Table D-1: generated by `dfc conform generate`; begin -->";
const CLAUSE_TABLE_END: &str = "<!-- Table D-1: end -->";

/// The spec next to a suite directory (`<suite>/../spec/dfc-spec.md`) with Table D-1 as
/// generated: (path, current text, text with the table), or `None` when there is no such spec
/// or it has no table markers.
fn spec_with_clause_table(suite: &Path, cases: &[Generated]) -> Option<(PathBuf, String, String)> {
    let path = suite.parent()?.join("spec").join("dfc-spec.md");
    let text = std::fs::read_to_string(&path).ok()?;
    let begin = text.find(CLAUSE_TABLE_BEGIN)? + CLAUSE_TABLE_BEGIN.len();
    let end = text[begin..].find(CLAUSE_TABLE_END)? + begin;
    let new = format!(
        "{}\n\n{}\n{}",
        &text[..begin],
        clause_table(cases),
        &text[end..]
    );
    Some((path, text, new))
}
