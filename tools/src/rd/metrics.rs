//! Distortion of a reconstruction against the original tensor.

use serde::Serialize;

/// How far a reconstruction is from the original.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Distortion {
    /// Mean squared error.
    pub mse: f64,
    /// 10 log10(peak² / MSE) in dB, peak = max |x| of the original; infinite when MSE = 0.
    #[serde(serialize_with = "finite_or_text")]
    pub psnr_db: f64,
    /// Cosine similarity of the two tensors as vectors (1 when both are all zero).
    pub cosine: f64,
    /// Largest absolute difference of one element.
    pub max_abs_error: f64,
}

/// max |x|, the peak of every PSNR.
pub fn peak(original: &[f32]) -> f64 {
    original
        .iter()
        .fold(0.0f64, |m, &x| m.max(f64::from(x).abs()))
}

/// PSNR in dB for a peak and an MSE: infinite when MSE = 0; for an all-zero original with an
/// error, negative infinity.
pub fn psnr_db(peak: f64, mse: f64) -> f64 {
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (peak * peak / mse).log10()
    }
}

/// Compares a reconstruction with the original, element by element (same length).
pub fn distortion(original: &[f32], reconstruction: &[f32]) -> Distortion {
    debug_assert_eq!(original.len(), reconstruction.len());
    let (mut squared, mut dot, mut norm_o, mut norm_r, mut max_abs) = (0.0, 0.0, 0.0, 0.0, 0.0f64);
    for (&o, &r) in original.iter().zip(reconstruction) {
        let (o, r) = (f64::from(o), f64::from(r));
        let e = r - o;
        squared += e * e;
        dot += o * r;
        norm_o += o * o;
        norm_r += r * r;
        max_abs = max_abs.max(e.abs());
    }
    let mse = squared / original.len().max(1) as f64;
    let cosine = if norm_o == 0.0 || norm_r == 0.0 {
        if norm_o == norm_r {
            1.0
        } else {
            0.0
        }
    } else {
        dot / (norm_o.sqrt() * norm_r.sqrt())
    };
    Distortion {
        mse,
        psnr_db: psnr_db(peak(original), mse),
        cosine,
        max_abs_error: max_abs,
    }
}

/// Serializes a float as a JSON number, or as "inf" / "-inf" / "nan" (as fidelity.py does).
pub fn finite_or_text<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(*x)
    } else if x.is_nan() {
        s.serialize_str("nan")
    } else if *x > 0.0 {
        s.serialize_str("inf")
    } else {
        s.serialize_str("-inf")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_reconstruction() {
        let x = [0.0f32, 1.5, -3.0, 2.0];
        let d = distortion(&x, &x);
        assert_eq!(d.mse, 0.0);
        assert_eq!(d.psnr_db, f64::INFINITY);
        assert!((d.cosine - 1.0).abs() < 1e-15);
        assert_eq!(d.max_abs_error, 0.0);
    }

    #[test]
    fn known_values() {
        // Peak 4, errors 0, 1, -1, 0: MSE 0.5, PSNR 10 log10(16 / 0.5) = 15.05 dB.
        let o = [4.0f32, 0.0, 2.0, -1.0];
        let r = [4.0f32, 1.0, 1.0, -1.0];
        let d = distortion(&o, &r);
        assert_eq!(d.mse, 0.5);
        assert!((d.psnr_db - 10.0 * 32f64.log10()).abs() < 1e-12);
        // cos = (16 + 0 + 2 + 1) / (sqrt(21) sqrt(19))
        assert!((d.cosine - 19.0 / (21f64.sqrt() * 19f64.sqrt())).abs() < 1e-12);
        assert_eq!(d.max_abs_error, 1.0);
    }

    #[test]
    fn all_zero_tensors() {
        let z = [0.0f32; 3];
        assert_eq!(distortion(&z, &z).cosine, 1.0);
        let d = distortion(&z, &[0.0, 1.0, 0.0]);
        assert_eq!(d.cosine, 0.0);
        assert_eq!(d.psnr_db, f64::NEG_INFINITY);
    }

    #[test]
    fn infinite_psnr_is_text_in_json() {
        let d = distortion(&[1.0], &[1.0]);
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains("\"psnr_db\":\"inf\""), "{json}");
    }
}
