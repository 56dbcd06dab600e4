//! Quantiles and Tukey's fences, as Cardinal computes them.
//!
//! Written here rather than taken from a statistics crate: the one definition
//! needed is a few lines, and Cardinal's results depend on its exact choice —
//! Hyndman and Fan's type 8 ("approximately median-unbiased", R's `type = 8`),
//! which is what the `statrs` crate that Cardinal uses implements.

/// The `p`-quantile (0 ≤ p ≤ 1) of `data`, type 8. `None` for no data.
pub fn quantile(data: &[f64], p: f64) -> Option<f64> {
    if data.is_empty() || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let mut sorted: Vec<f64> = data.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let h = (n + 1.0 / 3.0) * p + 1.0 / 3.0;
    let hf = h.floor();
    if hf < 1.0 || p == 0.0 {
        return sorted.first().copied();
    }
    if hf >= n || p == 1.0 {
        return sorted.last().copied();
    }
    let lo = sorted[hf as usize - 1];
    let hi = sorted[hf as usize];
    Some(lo + (h - hf) * (hi - lo))
}

/// Q1, Q3 and the lower fence Q1 − 1.5·IQR.
pub fn lower_fence(data: &[f64]) -> Option<(f64, f64, f64)> {
    let q1 = quantile(data, 0.25)?;
    let q3 = quantile(data, 0.75)?;
    Some((q1, q3, (q3 - q1).mul_add(-1.5, q1)))
}

/// Q1, Q3 and the upper fence Q3 + 1.5·IQR.
pub fn upper_fence(data: &[f64]) -> Option<(f64, f64, f64)> {
    let q1 = quantile(data, 0.25)?;
    let q3 = quantile(data, 0.75)?;
    Some((q1, q3, (q3 - q1).mul_add(1.5, q3)))
}

/// Rounds to 4 decimals, as Cardinal reports its `Meta` figures.
pub fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_8_matches_r() {
        // R: quantile(c(1,2,3,4,5,6,7,8,9,10), c(.25,.5,.75), type = 8)
        //    → 2.916667 5.500000 8.083333
        let data: Vec<f64> = (1..=10).map(f64::from).collect();
        let q = |p| quantile(&data, p).unwrap();
        assert!((q(0.25) - 2.916_666_7).abs() < 1e-6);
        assert!((q(0.5) - 5.5).abs() < 1e-9);
        assert!((q(0.75) - 8.083_333_3).abs() < 1e-6);
        assert_eq!(quantile(&data, 0.0), Some(1.0));
        assert_eq!(quantile(&data, 1.0), Some(10.0));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7.0], 0.25), Some(7.0));
    }

    #[test]
    fn fences() {
        let data = [1.0, 2.0, 3.0, 4.0, 100.0];
        let (q1, q3, upper) = upper_fence(&data).unwrap();
        assert!(upper > q3 && q3 > q1);
        let (_, _, lower) = lower_fence(&data).unwrap();
        assert!(lower < q1);
    }
}
