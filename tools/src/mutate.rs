//! `dfc mutate`: deterministic edits of a stream (the conformance suite's mutator).

use dfc_conformance::mutate::{apply_text, Units};
use std::path::PathBuf;

/// Options of `dfc mutate`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Operations (applied in order; unit U counts from 0 for the first unit after the
identification, in the stream as left by the previous operation). A changed unit gets a correct
payload_size and unit_crc again unless the operation says otherwise:

  set:U.ELEM=V        set syntax element ELEM of unit U; set:id.ELEM=V for the identification
  crc:U=V             set unit_crc of unit U (nothing recomputed)
  crcflip:U           flip the lowest bit of unit_crc of unit U
  pwrite:U@OFF=HEX    overwrite payload bytes of unit U from payload byte OFF
  ptrunc:U=LEN        cut the payload of unit U to LEN bytes
  pappend:U=HEX       append bytes to the payload of unit U
  pset:U=HEX          replace the payload of unit U
  insert:U=TYPE:HEX   insert a unit of type TYPE with payload HEX before unit U
  delete:U            remove unit U
  dup:U               insert a copy of unit U after it
  swap:U,V            exchange units U and V
  move:U,V            take unit U out and insert it so that it becomes unit V
  write:OFF=HEX       overwrite stream bytes from byte OFF (no CRC update)
  xor:OFF=MASK        XOR the stream byte at OFF with MASK (no CRC update)
  truncate:LEN        cut the stream to LEN bytes
  append:HEX          append bytes to the stream

Values: decimal or 0x-hexadecimal integers; hex:... for byte strings, str:... for text;
dims as 2x3x4 (- for none).
Elements: identification magic version_major version_minor; any unit unit_type payload_size
(keeps the payload: the framing changes) unit_crc unit_payload; sequence_header version_major
version_minor profile_idc level_idc num_layers reserved_zero_16bits; layer_parameters layer_id
layer_kind element_type non_negative_flag reserved_zero_7bits default_method dims dim[i] name;
feature_data layer_id frame_index coding_method method_payload; tensor_hash layer_id
frame_index hash_type hash_value; metadata key[i] value[i].

Every invalid case of the conformance suite records the command that made it in its
expect.json (generator.mutate_command).

Examples:
  dfc mutate in.dfc -o out.dfc set:0.level_idc=20
  dfc mutate in.dfc -o out.dfc crcflip:4
  dfc mutate in.dfc -o out.dfc 'insert:8=0x80:68656c6c6f' delete:5 append:00")]
pub struct Args {
    /// The stream to change (- for standard input).
    #[arg(value_name = "IN.dfc")]
    pub input: PathBuf,
    /// Where to write the changed stream (- for standard output).
    #[arg(short, long, value_name = "OUT.dfc")]
    pub output: PathBuf,
    /// The operations, e.g. set:0.level_idc=20 crcflip:4.
    #[arg(value_name = "OP", required = true)]
    pub ops: Vec<String>,
    /// Replace the output if it exists.
    #[arg(short, long)]
    pub force: bool,
}

pub fn run(args: Args, verbosity: crate::Verbosity) -> anyhow::Result<()> {
    let stream = crate::io::read_input(&args.input)?;
    let out = apply_text(&stream, &args.ops)?;
    crate::io::atomic::Outputs::new(args.force, std::slice::from_ref(&args.input))
        .write_file(&args.output, &out)?;
    if !verbosity.quiet && !crate::io::atomic::is_stdio(&args.output) {
        let units = Units::parse(&out);
        let tail = if units.tail.is_empty() {
            String::new()
        } else {
            format!(" and {} bytes after them", units.tail.len())
        };
        println!(
            "{}: {} bytes, {} complete unit(s){tail}",
            args.output.display(),
            out.len(),
            units.units.len()
        );
    }
    Ok(())
}
