//! Rate control of the quantized method (Annex C, non-normative): the qp of a uniform quantizer
//! that meets a PSNR target or a rate target, found with models instead of full encodes.
//!
//! - PSNR: with nearest rounding the decoder's output depends on the step alone, so the PSNR of
//!   a qp is one pass of quantization and reconstruction over the values, with no entropy
//!   coding. A secant search on a sample of the elements finds the region, two or three passes
//!   over all of them settle the coarsest qp (on a grid of 1/16) that meets the target, and the
//!   tensor is coded once. With RDO rounding the levels (not their coding) are computed per
//!   step of a bisection.
//! - Rate: the order-0 entropy of the levels on a sample, scaled by what a real encode costs
//!   against it, predicts the payload; real encodes correct the prediction (usually two).

use super::{Candidate, Job, Uniform};

/// PSNR gained per qp at high rate: 20 log10(2) / 8 dB.
const DB_PER_QP: f64 = 0.752_574_989_159_953;
/// Elements a search looks at before it looks at all of them.
const SAMPLE: usize = 1 << 16;
/// The qp range searched: steps from 2^12 times the scale down to 2^-17 times it (the 16-bit
/// level limit stops the fine end earlier).
const QP_MIN: f64 = -96.0;
const QP_MAX: f64 = 136.0;
/// Resolution of the final qp.
const QP_GRID: f64 = 1.0 / 16.0;

impl Job<'_> {
    /// The tensor's largest magnitude, from the cached per-tensor scales (no pass of its own).
    fn peak(&self) -> f64 {
        self.scales(false).0.first().map_or(0.0, |&(_, peak)| peak)
    }

    /// PSNR of nearest rounding with `q` over every `stride`-th element, as the decoder outputs
    /// the reconstruction (the same values [`Job::encode_uniform`] measures).
    fn nearest_psnr(&self, q: &Uniform, stride: usize, peak: f64) -> f64 {
        let mut squared_error = 0f64;
        let mut count = 0usize;
        for i in (0..self.values.len()).step_by(stride) {
            let x = self.values[i];
            let set = i / q.set_len;
            let r = self.as_output(q.reconstruct(q.nearest(x, set), set));
            let e = f64::from(x) - f64::from(r);
            squared_error += e * e;
            count += 1;
        }
        psnr_of(peak, squared_error, count)
    }

    fn levels_psnr(&self, q: &Uniform, levels: &[i32], peak: f64) -> f64 {
        let squared_error: f64 = levels
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                let e = f64::from(self.values[i])
                    - f64::from(self.as_output(q.reconstruct(l, i / q.set_len)));
                e * e
            })
            .sum();
        psnr_of(peak, squared_error, levels.len())
    }

    fn sample_stride(&self) -> usize {
        (self.values.len() / SAMPLE).max(1)
    }

    /// The qp whose PSNR on the sample is about `target`, by secant steps from qp 48.
    fn estimate_qp_for_psnr(&self, target: f64, per_channel: bool, peak: f64) -> f64 {
        let stride = self.sample_stride();
        let psnr = |qp: f64| self.nearest_psnr(&self.uniform_at(qp, per_channel), stride, peak);
        let (mut qp, mut p) = (48.0, psnr(48.0));
        let mut previous: Option<(f64, f64)> = None;
        for _ in 0..8 {
            let error = target - p;
            if error.abs() < 0.02 {
                break;
            }
            let next = if p.is_infinite() {
                qp - 16.0
            } else {
                let slope = match previous {
                    Some((q0, p0)) if p0.is_finite() && (qp - q0).abs() > 1e-9 => {
                        ((p - p0) / (qp - q0)).clamp(0.05, 4.0)
                    }
                    _ => DB_PER_QP,
                };
                qp + error / slope
            };
            previous = Some((qp, p));
            qp = next.clamp(QP_MIN, QP_MAX);
            p = psnr(qp);
        }
        qp
    }

    /// The coarsest uniform quantizer of one mode meeting a PSNR (on the 1/16 qp grid), and
    /// its qp.
    fn uniform_qp_for_psnr(&self, target: f64, per_channel: bool) -> f64 {
        let peak = self.peak();
        if peak == 0.0 {
            return QP_MIN;
        }
        let feasible = |qp: f64| -> bool {
            self.nearest_psnr(&self.uniform_at(qp, per_channel), 1, peak) >= target
        };
        // Aim a little above the target so that the first full pass usually meets it.
        let estimate = self.estimate_qp_for_psnr(target + 0.03, per_channel, peak);
        let start = ((estimate / QP_GRID).ceil() * QP_GRID).clamp(QP_MIN, QP_MAX);
        // Bracket: `coarse` misses the target, `fine` meets it.
        let (mut coarse, mut fine);
        let mut delta = QP_GRID;
        if feasible(start) {
            fine = start;
            loop {
                let q = (fine - delta).max(QP_MIN);
                if q == fine {
                    return fine;
                }
                if feasible(q) {
                    fine = q;
                    delta *= 2.0;
                } else {
                    coarse = q;
                    break;
                }
            }
        } else {
            coarse = start;
            loop {
                let q = (coarse + delta).min(QP_MAX);
                if q == coarse {
                    return QP_MAX;
                }
                if feasible(q) {
                    fine = q;
                    break;
                }
                coarse = q;
                delta *= 2.0;
            }
        }
        while fine - coarse > QP_GRID {
            let mid = ((coarse + fine) / 2.0 / QP_GRID).round() * QP_GRID;
            if mid <= coarse || mid >= fine {
                break;
            }
            if feasible(mid) {
                fine = mid;
            } else {
                coarse = mid;
            }
        }
        fine
    }

    /// The coarsest uniform quantizer meeting a PSNR. Between modes (per tensor, per channel)
    /// the one whose levels have the lower order-0 entropy is coded, so the tensor is coded once.
    pub(super) fn uniform_for_psnr(&self, target: f64, modes: &[bool]) -> Candidate {
        if self.options.rdo {
            return self.rdo_uniform_for_psnr(target, modes);
        }
        self.encode_uniform(&self.nearest_uniform_for_psnr(target, modes))
    }

    /// With nearest rounding, the coarsest uniform quantizer meeting a PSNR, in the mode
    /// whose levels have the lower order-0 entropy.
    fn nearest_uniform_for_psnr(&self, target: f64, modes: &[bool]) -> Uniform {
        modes
            .iter()
            .map(|&per_channel| {
                let q = self.uniform_at(self.uniform_qp_for_psnr(target, per_channel), per_channel);
                let bits = self.entropy_bits(&q, self.sample_stride()) + side_bits(&q);
                (q, bits)
            })
            .reduce(|a, b| if b.1 < a.1 { b } else { a })
            .expect("one mode at least")
            .0
    }

    /// With RDO rounding: per mode, a bisection of 14 steps on qp (over 0..=136 for
    /// peak-relative steps, as in earlier versions, whose streams it reproduces; over the
    /// whole range for RMS-relative ones) computing levels, not their coding; each mode's
    /// result is coded and the smaller payload kept.
    fn rdo_uniform_for_psnr(&self, target: f64, modes: &[bool]) -> Candidate {
        let peak = self.peak();
        let lowest = match self.options.scale {
            super::StepScale::Peak => 0.0,
            super::StepScale::Rms => QP_MIN,
        };
        modes
            .iter()
            .map(|&per_channel| {
                let (mut lo, mut hi) = (lowest, QP_MAX);
                let mut best = self.uniform_at(hi, per_channel);
                for _ in 0..14 {
                    let mid = (lo + hi) / 2.0;
                    let q = self.uniform_at(mid, per_channel);
                    if self.levels_psnr(&q, &self.levels_of(&q), peak) >= target {
                        hi = mid;
                        best = q;
                    } else {
                        lo = mid;
                    }
                }
                self.encode_uniform(&best)
            })
            .reduce(|a, b| {
                if b.payload.len() < a.payload.len() {
                    b
                } else {
                    a
                }
            })
            .expect("one mode at least")
    }

    /// Order-0 entropy, in bits, of the nearest levels of every `stride`-th element, scaled to
    /// the whole tensor.
    fn entropy_bits(&self, q: &Uniform, stride: usize) -> f64 {
        // Levels lie in -32768..=65535 (16 bits, signed or not).
        let mut counts = vec![0u32; 32768 + 65536];
        let mut n = 0u32;
        for i in (0..self.values.len()).step_by(stride) {
            let level = q.nearest(self.values[i], i / q.set_len);
            counts[(level + 32768) as usize] += 1;
            n += 1;
        }
        let n = f64::from(n.max(1));
        let per_element: f64 = counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = f64::from(c) / n;
                -p * p.log2()
            })
            .sum();
        per_element * self.values.len() as f64
    }

    /// The qp whose predicted payload (sample entropy × `calibration`) is `bits`, by secant
    /// steps from `start`.
    fn qp_for_predicted_bits(
        &self,
        bits: f64,
        per_channel: bool,
        calibration: f64,
        start: f64,
    ) -> f64 {
        let stride = self.sample_stride();
        let predicted = |qp: f64| {
            let q = self.uniform_at(qp, per_channel);
            self.entropy_bits(&q, stride) * calibration + side_bits(&q)
        };
        let (mut qp, mut b) = (start, predicted(start));
        // About n / 8 bits per qp at high rate.
        let mut slope = self.values.len() as f64 / 8.0 * calibration;
        for _ in 0..8 {
            let error = bits - b;
            if error.abs() < 0.002 * bits {
                break;
            }
            let next = (qp + error / slope).clamp(QP_MIN, QP_MAX);
            if next == qp {
                break;
            }
            let nb = predicted(next);
            if (next - qp).abs() > 1e-9 && (nb - b).abs() > 1e-9 {
                slope = ((nb - b) / (next - qp)).max(1e-6 * self.values.len() as f64);
            }
            qp = next;
            b = nb;
        }
        qp
    }

    /// The finest uniform quantizer within a rate: the entropy model proposes a qp, real
    /// encodes correct it (within 2 % below the budget, or the finest of a 1/16 qp bracket).
    pub(super) fn uniform_for_rate(&self, bits_per_element: f64, modes: &[bool]) -> Candidate {
        let budget = bits_per_element * self.values.len() as f64;
        // The mode with the better PSNR at the predicted qp.
        let peak = self.peak();
        let stride = self.sample_stride();
        let (per_channel, start) = modes
            .iter()
            .map(|&m| {
                let qp = self.qp_for_predicted_bits(budget, m, 1.0, 48.0);
                let p = self.nearest_psnr(&self.uniform_at(qp, m), stride, peak);
                (m, qp, p)
            })
            .reduce(|a, b| if b.2 > a.2 { b } else { a })
            .map(|(m, qp, _)| (m, qp))
            .expect("one mode at least");
        let bits_of = |c: &Candidate| 8.0 * c.payload.len() as f64;
        let mut qp = (start / QP_GRID).floor() * QP_GRID;
        let mut within: Option<(f64, Candidate)> = None;
        let mut over: Option<f64> = None;
        let mut tried: Vec<(f64, f64)> = Vec::new();
        for _ in 0..8 {
            let q = self.uniform_at(qp, per_channel);
            let c = self.encode_uniform(&q);
            let bits = bits_of(&c);
            tried.push((qp, bits));
            if bits <= budget {
                let close = bits >= 0.98 * budget;
                if within.as_ref().is_none_or(|(w, _)| qp > *w) {
                    within = Some((qp, c));
                }
                if close {
                    break;
                }
            } else {
                over = Some(over.map_or(qp, |o: f64| o.min(qp)));
            }
            let lo = within.as_ref().map(|(w, _)| *w);
            if let (Some(lo), Some(hi)) = (lo, over) {
                if hi - lo <= QP_GRID {
                    break;
                }
            }
            // Secant through the last two encodes; after the first, the entropy model
            // calibrated on it.
            let aim = 0.99 * budget;
            let mut next = match tried.as_slice() {
                [.., (q0, b0), (q1, b1)] if (b1 - b0).abs() > 1.0 && (q1 - q0).abs() > 1e-9 => {
                    q1 + (aim - b1) * (q1 - q0) / (b1 - b0)
                }
                _ => {
                    let model = self.entropy_bits(&q, stride) + side_bits(&q);
                    let calibration = if model > 0.0 { bits / model } else { 1.0 };
                    self.qp_for_predicted_bits(aim, per_channel, calibration, qp)
                }
            };
            next = (next / QP_GRID).round() * QP_GRID;
            let lo_bound = lo.unwrap_or(QP_MIN - QP_GRID);
            let hi_bound = over.unwrap_or(QP_MAX + QP_GRID);
            if !next.is_finite() || next <= lo_bound || next >= hi_bound {
                next = match (lo, over) {
                    (Some(lo), Some(hi)) => ((lo + hi) / 2.0 / QP_GRID).round() * QP_GRID,
                    (Some(lo), None) => (lo + 4.0).min(QP_MAX),
                    (None, Some(hi)) => (hi - 4.0).max(QP_MIN),
                    (None, None) => qp,
                };
            }
            next = next.clamp(QP_MIN, QP_MAX);
            if tried.iter().any(|&(t, _)| t == next) {
                break;
            }
            qp = next;
        }
        match within {
            Some((_, c)) => c,
            // Nothing fits: the coarsest quantizer.
            None => self.encode_uniform(&self.uniform_at(QP_MIN, per_channel)),
        }
    }
}

/// For frames of one layer sharing one quantizer (a group of frames from a random-access
/// point): the mode the first frame chooses, each step the finest the frames need, then made
/// finer by 2^(-1/128) until every frame meets the target. `None` when the frames differ in
/// their parameter sets.
pub(super) fn uniform_for_psnr_of_frames(jobs: &[Job<'_>], target: f64) -> Option<Uniform> {
    let first = jobs.first()?;
    let chosen = first.nearest_uniform_for_psnr(target, first.modes());
    let per_channel = chosen.sets.len() > 1 || chosen.set_len < first.values.len();
    let mut q = chosen;
    for job in &jobs[1..] {
        let own = job.uniform_at(job.uniform_qp_for_psnr(target, per_channel), per_channel);
        if own.sets.len() != q.sets.len() || own.set_len != q.set_len {
            return None;
        }
        for (s, o) in q.sets.iter_mut().zip(&own.sets) {
            s.0 = s.0.min(o.0);
        }
    }
    let finer = (-1.0f64 / 128.0).exp2();
    for _ in 0..64 {
        let meets = jobs
            .iter()
            .all(|j| j.nearest_psnr(&q, 1, j.peak()) >= target);
        if meets {
            break;
        }
        for s in &mut q.sets {
            s.0 = (f64::from(s.0) * finer) as f32;
        }
    }
    Some(q)
}

/// Bits of the quantizer's parameters in the payload: two binary32 values per set.
fn side_bits(q: &Uniform) -> f64 {
    64.0 * q.sets.len() as f64
}

fn psnr_of(peak: f64, squared_error: f64, count: usize) -> f64 {
    if squared_error == 0.0 {
        f64::INFINITY
    } else {
        // As `distortion` computes it, so that a qp found here meets the target there.
        let mse = squared_error / count.max(1) as f64;
        10.0 * (peak * peak / mse).log10()
    }
}
