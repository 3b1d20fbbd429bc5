//! Decimal numbers as text, read without floating point.

/// A plain decimal number `[-]digits[.digits][e±exp]` held as mantissa × 10^-scale.
pub(crate) struct Decimal {
    mantissa: i128,
    scale: i32,
}

impl Decimal {
    pub(crate) fn parse(text: &str) -> Option<Decimal> {
        let (number, exponent) = match text.find(['e', 'E']) {
            Some(pos) => (&text[..pos], text[pos + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (negative, digits) = match number.as_bytes().first()? {
            b'-' => (true, &number[1..]),
            b'+' => (false, &number[1..]),
            _ => (false, number),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        // 30 significant digits are far beyond any meter or price; refusing more keeps i128 from
        // overflowing.
        if int_part.len() + frac_part.len() > 30 || !(-30..=30).contains(&exponent) {
            return None;
        }
        let mut mantissa: i128 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            mantissa = mantissa * 10 + i128::from(b - b'0');
        }
        if negative {
            mantissa = -mantissa;
        }
        Some(Decimal { mantissa, scale: frac_part.len() as i32 - exponent })
    }

    /// `self × factor`, rounded half away from zero to an integer.
    pub(crate) fn scale_rounded(&self, factor: i128) -> Option<i128> {
        let product = self.mantissa.checked_mul(factor)?;
        if self.scale <= 0 {
            return product.checked_mul(10i128.checked_pow((-self.scale) as u32)?);
        }
        Some(div_round_half_away(product, 10i128.checked_pow(self.scale as u32)?))
    }

    /// `self × factor` when that is an integer; `None` when digits would be lost or it overflows.
    pub(crate) fn scale_exact(&self, factor: i128) -> Option<i128> {
        let product = self.mantissa.checked_mul(factor)?;
        if self.scale <= 0 {
            return product.checked_mul(10i128.checked_pow((-self.scale) as u32)?);
        }
        let divisor = 10i128.checked_pow(self.scale as u32)?;
        (product % divisor == 0).then_some(product / divisor)
    }
}

/// `numerator / denominator` rounded half away from zero (the commercial rounding of 四舍五入);
/// `denominator` is positive.
pub(crate) fn div_round_half_away(numerator: i128, denominator: i128) -> i128 {
    if let (Ok(n), Ok(d)) = (i64::try_from(numerator), i64::try_from(denominator)) {
        // Prices of sessions fit in 64 bits, where division is several times cheaper.
        let (quotient, remainder) = (n / d, (n % d).unsigned_abs());
        return i128::from(if remainder * 2 >= d.unsigned_abs() { quotient + n.signum() } else { quotient });
    }
    let quotient = numerator / denominator;
    let remainder = (numerator % denominator).abs();
    if remainder * 2 >= denominator { quotient + numerator.signum() } else { quotient }
}

/// `value` (an integer count of 10^-`decimals`) as decimal text, without trailing zeros.
pub(crate) fn format_scaled(value: i128, decimals: u32) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let unit = 10u128.pow(decimals);
    let fraction = format!("{:0width$}", abs % unit, width = decimals as usize);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() { format!("{sign}{}", abs / unit) } else { format!("{sign}{}.{fraction}", abs / unit) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(div_round_half_away(15, 10), 2);
        assert_eq!(div_round_half_away(14, 10), 1);
        assert_eq!(div_round_half_away(-15, 10), -2);
        assert_eq!(div_round_half_away(-14, 10), -1);
        assert_eq!(div_round_half_away(0, 10), 0);
    }

    #[test]
    fn exact_scaling_refuses_lost_digits() {
        assert_eq!(Decimal::parse("0.14903").and_then(|d| d.scale_exact(1_000_000)), Some(149_030));
        assert_eq!(Decimal::parse("0.1234567").and_then(|d| d.scale_exact(1_000_000)), None);
        assert_eq!(Decimal::parse("12").and_then(|d| d.scale_exact(1_000_000)), Some(12_000_000));
    }

    #[test]
    fn formats_without_trailing_zeros() {
        assert_eq!(format_scaled(149_030, 6), "0.14903");
        assert_eq!(format_scaled(12_000_000, 6), "12");
        assert_eq!(format_scaled(-5, 2), "-0.05");
    }
}
