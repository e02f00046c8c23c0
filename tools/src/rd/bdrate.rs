//! Bjøntegaard delta rate with piecewise cubic interpolation (VCEG-AL22, JVET CTC): log10(rate)
//! as a PCHIP function of PSNR, both curves integrated over their common PSNR interval.

/// A rate–distortion point: rate in any unit (the same for both curves), PSNR in dB.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RdPoint {
    pub rate: f64,
    pub psnr: f64,
}

/// Monotone piecewise cubic Hermite interpolant (Fritsch–Carlson, as SciPy's
/// `PchipInterpolator`) through points with strictly increasing x.
#[derive(Clone, Debug)]
pub struct Pchip {
    x: Vec<f64>,
    y: Vec<f64>,
    /// Derivative at each knot.
    d: Vec<f64>,
}

impl Pchip {
    /// `None` unless there are at least two points, x strictly increasing and everything finite.
    pub fn new(x: &[f64], y: &[f64]) -> Option<Pchip> {
        let n = x.len();
        if n < 2 || y.len() != n || x.iter().chain(y).any(|v| !v.is_finite()) {
            return None;
        }
        if x.windows(2).any(|w| w[1] <= w[0]) {
            return None;
        }
        let h: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
        let delta: Vec<f64> = (0..n - 1).map(|k| (y[k + 1] - y[k]) / h[k]).collect();
        let mut d = vec![0.0; n];
        if n == 2 {
            d[0] = delta[0];
            d[1] = delta[0];
        } else {
            for k in 1..n - 1 {
                let (a, b) = (delta[k - 1], delta[k]);
                if a == 0.0 || b == 0.0 || a.signum() != b.signum() {
                    d[k] = 0.0;
                } else {
                    let w1 = 2.0 * h[k] + h[k - 1];
                    let w2 = h[k] + 2.0 * h[k - 1];
                    d[k] = (w1 + w2) / (w1 / a + w2 / b);
                }
            }
            d[0] = end_slope(h[0], h[1], delta[0], delta[1]);
            d[n - 1] = end_slope(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
        }
        Some(Pchip {
            x: x.to_vec(),
            y: y.to_vec(),
            d,
        })
    }

    /// The interpolant at `t` (extrapolating the end pieces outside the knots).
    pub fn value(&self, t: f64) -> f64 {
        let k = self.piece(t);
        let (y0, d0, c2, c3) = self.coefficients(k);
        let s = t - self.x[k];
        y0 + s * (d0 + s * (c2 + s * c3))
    }

    /// Exact integral of the interpolant from `a` to `b` (`a <= b`, inside the knots).
    pub fn integral(&self, a: f64, b: f64) -> f64 {
        let mut total = 0.0;
        for k in 0..self.x.len() - 1 {
            let lo = a.max(self.x[k]);
            let hi = b.min(self.x[k + 1]);
            if hi > lo {
                let (y0, d0, c2, c3) = self.coefficients(k);
                let primitive = |t: f64| {
                    let s = t - self.x[k];
                    s * (y0 + s * (d0 / 2.0 + s * (c2 / 3.0 + s * c3 / 4.0)))
                };
                total += primitive(hi) - primitive(lo);
            }
        }
        total
    }

    fn piece(&self, t: f64) -> usize {
        let last = self.x.len() - 2;
        self.x[1..=last].partition_point(|&knot| knot <= t)
    }

    /// y0, d0, c2, c3 of piece `k` as y0 + d0 s + c2 s² + c3 s³, s = t − x_k.
    fn coefficients(&self, k: usize) -> (f64, f64, f64, f64) {
        let h = self.x[k + 1] - self.x[k];
        let delta = (self.y[k + 1] - self.y[k]) / h;
        let (d0, d1) = (self.d[k], self.d[k + 1]);
        let c2 = (3.0 * delta - 2.0 * d0 - d1) / h;
        let c3 = (d0 + d1 - 2.0 * delta) / (h * h);
        (self.y[k], d0, c2, c3)
    }
}

/// End derivative: the one-sided three-point estimate, kept shape-preserving (SciPy's rule).
fn end_slope(h0: f64, h1: f64, delta0: f64, delta1: f64) -> f64 {
    let d = ((2.0 * h0 + h1) * delta0 - h0 * delta1) / (h0 + h1);
    if d.signum() != delta0.signum() || delta0 == 0.0 {
        0.0
    } else if delta0.signum() != delta1.signum() && d.abs() > 3.0 * delta0.abs() {
        3.0 * delta0
    } else {
        d
    }
}

/// A curve ready for interpolation: positive rates and finite PSNRs, sorted by PSNR, one point
/// per PSNR value (the lowest rate wins a tie). `None` with fewer than two such points.
fn prepare(points: &[RdPoint]) -> Option<Pchip> {
    let mut pts: Vec<RdPoint> = points
        .iter()
        .copied()
        .filter(|p| p.psnr.is_finite() && p.rate.is_finite() && p.rate > 0.0)
        .collect();
    pts.sort_by(|a, b| a.psnr.total_cmp(&b.psnr).then(a.rate.total_cmp(&b.rate)));
    pts.dedup_by(|later, kept| later.psnr == kept.psnr);
    let x: Vec<f64> = pts.iter().map(|p| p.psnr).collect();
    let y: Vec<f64> = pts.iter().map(|p| p.rate.log10()).collect();
    Pchip::new(&x, &y)
}

/// BD-rate of `test` against `anchor` in percent: the mean rate difference at equal PSNR over
/// the PSNR interval both curves cover (negative: `test` needs fewer bits). `None` when a curve
/// has fewer than two usable points or the curves share no PSNR interval.
pub fn bd_rate(anchor: &[RdPoint], test: &[RdPoint]) -> Option<f64> {
    let a = prepare(anchor)?;
    let t = prepare(test)?;
    let lo = a.x[0].max(t.x[0]);
    let hi = a.x[a.x.len() - 1].min(t.x[t.x.len() - 1]);
    if hi <= lo {
        return None;
    }
    let mean_difference = (t.integral(lo, hi) - a.integral(lo, hi)) / (hi - lo);
    Some((10f64.powf(mean_difference) - 1.0) * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(points: &[(f64, f64)]) -> Vec<RdPoint> {
        points
            .iter()
            .map(|&(rate, psnr)| RdPoint { rate, psnr })
            .collect()
    }

    const ANCHOR: [(f64, f64); 5] = [
        (0.21, 24.3),
        (0.55, 30.9),
        (1.02, 36.2),
        (1.71, 41.0),
        (2.64, 44.8),
    ];

    #[test]
    fn identical_curves_give_zero() {
        let a = curve(&ANCHOR);
        assert_eq!(bd_rate(&a, &a), Some(0.0));
    }

    #[test]
    fn rate_scaled_by_a_constant_gives_that_constant() {
        let a = curve(&ANCHOR);
        for factor in [0.7, 1.25, 0.5] {
            let t: Vec<RdPoint> = a
                .iter()
                .map(|p| RdPoint {
                    rate: p.rate * factor,
                    psnr: p.psnr,
                })
                .collect();
            let bd = bd_rate(&a, &t).unwrap();
            assert!((bd - (factor - 1.0) * 100.0).abs() < 1e-9, "{factor}: {bd}");
        }
    }

    #[test]
    fn swapping_the_curves_inverts_the_rate_factor() {
        let a = curve(&ANCHOR);
        let t = curve(&[(0.15, 23.0), (0.40, 29.5), (0.90, 37.0), (1.50, 42.0)]);
        let forward = bd_rate(&a, &t).unwrap() / 100.0 + 1.0;
        let backward = bd_rate(&t, &a).unwrap() / 100.0 + 1.0;
        assert!((forward * backward - 1.0).abs() < 1e-12);
        assert!(forward < 1.0, "the test curve is cheaper at every PSNR");
    }

    #[test]
    fn pchip_reproduces_linear_data() {
        let x = [0.0, 1.0, 2.5, 4.0, 7.0];
        let y: Vec<f64> = x.iter().map(|v| 3.0 * v - 2.0).collect();
        let p = Pchip::new(&x, &y).unwrap();
        for t in [0.0, 0.3, 1.0, 2.0, 3.3, 6.9, 7.0] {
            assert!((p.value(t) - (3.0 * t - 2.0)).abs() < 1e-12, "{t}");
        }
        // ∫ 3t − 2 dt from 0.5 to 6 = 1.5 (36 − 0.25) − 2 (5.5)
        let exact = 1.5 * (36.0 - 0.25) - 11.0;
        assert!((p.integral(0.5, 6.0) - exact).abs() < 1e-12);
    }

    #[test]
    fn pchip_is_monotone_and_hits_the_knots() {
        let x = [0.0, 1.0, 2.0, 3.0, 4.0];
        let y = [0.0, 0.1, 3.0, 3.05, 8.0];
        let p = Pchip::new(&x, &y).unwrap();
        for (xi, yi) in x.iter().zip(&y) {
            assert!((p.value(*xi) - yi).abs() < 1e-12);
        }
        let samples: Vec<f64> = (0..=400).map(|i| p.value(f64::from(i) / 100.0)).collect();
        assert!(samples.windows(2).all(|w| w[1] >= w[0] - 1e-12));
    }

    #[test]
    fn pchip_matches_scipy() {
        // scipy.interpolate.PchipInterpolator([0, 1, 2, 4, 5], [0, 2, 1, 3, 7]).derivative()
        // at the knots (SciPy 1.x): [3.5, 0, 0, 1.7142857142857142, 5].
        let p = Pchip::new(&[0.0, 1.0, 2.0, 4.0, 5.0], &[0.0, 2.0, 1.0, 3.0, 7.0]).unwrap();
        let expected = [3.5, 0.0, 0.0, 12.0 / 7.0, 5.0];
        for (d, e) in p.d.iter().zip(expected) {
            assert!((d - e).abs() < 1e-12, "{:?}", p.d);
        }
    }

    #[test]
    fn bd_rate_matches_scipy() {
        // The same computation with SciPy's PchipInterpolator and its exact `integrate`.
        let a = curve(&ANCHOR);
        let t = curve(&[(0.15, 23.0), (0.40, 29.5), (0.90, 37.0), (1.50, 42.0)]);
        let bd = bd_rate(&a, &t).unwrap();
        assert!((bd - -15.912674904641587).abs() < 1e-9, "{bd}");
    }

    #[test]
    fn no_overlap_or_too_few_points_is_none() {
        let a = curve(&[(1.0, 20.0), (2.0, 25.0)]);
        let t = curve(&[(1.0, 30.0), (2.0, 35.0)]);
        assert_eq!(bd_rate(&a, &t), None);
        assert_eq!(bd_rate(&a, &curve(&[(1.0, 22.0)])), None);
        let with_inf = curve(&[(1.0, 22.0), (3.0, f64::INFINITY)]);
        assert_eq!(bd_rate(&a, &with_inf), None);
    }
}
