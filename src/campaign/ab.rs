//! A/B tests: a campaign with up to four variants of its content, who gets which, and how
//! the results compare. Shared with the browser (the compose form, the campaign page).
//!
//! Variant A is the campaign's own content; B, C and D are [`Variant`]s beside it. Each
//! subscription's part is decided by [`assign`] from the campaign and subscription ids
//! alone, so it is the same on every instance and after a restart, and it is recorded on
//! the delivery (`deliveries.variant`).

use serde::{Deserialize, Serialize};

pub use super::content::{Variant, VariantForm};
use crate::error::AppError;

/// Variants besides A, at most.
pub const MAX_EXTRA_VARIANTS: usize = 3;
/// The longest wait before the winner goes to the rest: a week.
pub const MAX_WAIT_MINUTES: u32 = 7 * 24 * 60;
/// The largest hold-out: beyond half, the campaign would mostly not be sent.
pub const MAX_HOLDOUT_PERCENT: u8 = 50;

/// The letter of variant `index` (0 is the campaign's own content).
pub fn letter(index: usize) -> char {
    char::from(b'A' + u8::try_from(index.min(25)).unwrap_or(25))
}

/// Who picks the winner once the test group has had its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pick {
    /// The variant with the best click-through rate, when the wait is over.
    Auto,
    /// An admin, on the campaign's page.
    Manual,
}

/// How an A/B test runs. `test_percent` 100 splits everyone evenly and sends at once;
/// less sends to that share first, split evenly, and the winner to the rest later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbTest {
    pub test_percent: u8,
    /// From the start until the winner is picked automatically.
    pub wait_minutes: u32,
    pub pick: Pick,
    /// Who receives nothing at all: the baseline a site compares its conversions with.
    pub holdout_percent: u8,
}

impl AbTest {
    /// The compose form's four fields.
    pub fn parse(test_percent: &str, wait_minutes: &str, pick: &str, holdout_percent: &str) -> Result<Self, AppError> {
        let number = |raw: &str, default: u32| -> Option<u32> {
            let raw = raw.trim();
            if raw.is_empty() {
                Some(default)
            } else {
                raw.parse().ok()
            }
        };
        let test_percent = number(test_percent, 100)
            .and_then(|n| u8::try_from(n).ok())
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| AppError::field("ab_test_percent", "The test group is 1 to 100 percent of the audience."))?;
        let wait_minutes =
            number(wait_minutes, 60).filter(|n| (1..=MAX_WAIT_MINUTES).contains(n)).ok_or_else(|| {
                AppError::field("ab_wait_minutes", "The wait before the winner is sent is 1 minute to 1 week.")
            })?;
        let pick = match pick.trim() {
            "" | "auto" => Pick::Auto,
            "manual" => Pick::Manual,
            _ => return Err(AppError::field("ab_pick", "The winner is picked auto(matically) or manual(ly).")),
        };
        let holdout_percent = number(holdout_percent, 0)
            .and_then(|n| u8::try_from(n).ok())
            .filter(|n| *n <= MAX_HOLDOUT_PERCENT)
            .ok_or_else(|| {
                AppError::field("ab_holdout_percent", format!("The hold-out is 0 to {MAX_HOLDOUT_PERCENT} percent."))
            })?;
        Ok(Self { test_percent, wait_minutes, pick, holdout_percent })
    }

    /// Whether some of the audience waits for the winner.
    pub fn has_rest(&self) -> bool {
        self.test_percent < 100
    }
}

/// Which part of an A/B campaign a subscription is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Receives nothing.
    HeldOut,
    /// Receives this variant now.
    Test(u8),
    /// Receives the winner, once it is known.
    Rest,
}

/// The part of campaign `campaign`'s audience subscription `subscription` is in, of a test
/// with `variants` variants in all. Deterministic (the same on every call, instance and
/// version): a fixed 64-bit mix of the two ids, whose 10,000 buckets first decide hold-out
/// and test group, and whose high bits, independent of those, the variant.
pub fn assign(campaign: i64, subscription: i64, test: &AbTest, variants: usize) -> Group {
    // SplitMix64's finaliser: every input bit affects every output bit, so consecutive
    // subscription ids land in unrelated buckets.
    let mut z = (campaign as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (subscription as u64);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let bucket = (z % 10_000) as u32;
    let holdout = u32::from(test.holdout_percent) * 100;
    if bucket < holdout {
        return Group::HeldOut;
    }
    // Of those not held out, `test_percent` are tested: scaled onto the remaining buckets.
    let rest_from = holdout + (10_000 - holdout) * u32::from(test.test_percent) / 100;
    if bucket >= rest_from {
        return Group::Rest;
    }
    let variants = variants.clamp(1, MAX_EXTRA_VARIANTS + 1) as u64;
    Group::Test(((z >> 32) % variants) as u8)
}

/// The variants sent so far, best click-through rate first (the earlier on a tie).
fn ranked(results: &[VariantResult]) -> Vec<&VariantResult> {
    let mut ranked: Vec<&VariantResult> = results.iter().filter(|r| r.sent > 0).collect();
    let rate = |r: &VariantResult| r.clicked as f64 / r.sent as f64;
    ranked.sort_by(|a, b| rate(b).total_cmp(&rate(a)).then(a.letter.cmp(&b.letter)));
    ranked
}

/// The index of the variant with the best click-through rate so far, if any was sent.
pub fn leader(results: &[VariantResult]) -> Option<u8> {
    ranked(results).first().map(|r| r.index())
}

/// One variant's results on the campaign page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantResult {
    pub letter: char,
    pub title: String,
    /// Deliveries assigned this variant (sent or not yet).
    pub targeted: i64,
    pub sent: i64,
    pub clicked: i64,
}

impl VariantResult {
    /// 0 for A, 1 for B, …
    pub fn index(&self) -> u8 {
        (self.letter as u8).saturating_sub(b'A')
    }

    /// Clicks per delivered notification, in percent; none before anything was sent.
    pub fn click_through_percent(&self) -> Option<f64> {
        (self.sent > 0).then(|| self.clicked as f64 * 100.0 / self.sent as f64)
    }
}

/// How sure the leading variant's lead is: a two-proportion z-test of its click-through
/// rate against the runner-up's (pooled standard error, two-sided).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Verdict {
    /// Too few sends or clicks for the normal approximation the test rests on (each
    /// variant needs at least 5 clicks and 5 sends without one).
    NotEnoughData,
    Compared {
        leader: char,
        runner_up: char,
        z: f64,
        p: f64,
    },
}

impl Verdict {
    pub fn of(results: &[VariantResult]) -> Self {
        let [leader, runner_up, ..] = ranked(results)[..] else { return Self::NotEnoughData };
        let enough = |r: &VariantResult| r.clicked >= 5 && r.sent - r.clicked >= 5;
        if !enough(leader) || !enough(runner_up) {
            return Self::NotEnoughData;
        }
        let (n1, n2) = (leader.sent as f64, runner_up.sent as f64);
        let (p1, p2) = (leader.clicked as f64 / n1, runner_up.clicked as f64 / n2);
        let pooled = (leader.clicked + runner_up.clicked) as f64 / (n1 + n2);
        let error = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
        let z = if error > 0.0 { (p1 - p2) / error } else { 0.0 };
        // P(|Z| ≥ z) for a standard normal Z.
        let p = libm::erfc(z.abs() / std::f64::consts::SQRT_2);
        Self::Compared { leader: leader.letter, runner_up: runner_up.letter, z, p }
    }

    /// The note under the results table.
    pub fn sentence(&self) -> String {
        match self {
            Self::NotEnoughData => "Not enough data yet to tell the variants apart: each needs at least 5 clicks \
                (and 5 sends without one) for a two-proportion z-test."
                .into(),
            Self::Compared { leader, runner_up, z, p } if *p < 0.05 => format!(
                "{leader} beats {runner_up} with 95 % confidence (two-proportion z-test: z = {z:.2}, p = {p:.3})."
            ),
            Self::Compared { leader, runner_up, z, p } => format!(
                "{leader} leads {runner_up}, but the difference could be chance (two-proportion z-test: \
                 z = {z:.2}, p = {p:.2}; 95 % confidence needs p < 0.05)."
            ),
        }
    }
}

/// The A/B part of a campaign's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbReport {
    pub test: AbTest,
    pub variants: Vec<VariantResult>,
    /// Held out: in the audience, sent nothing.
    pub held_out: i64,
    /// Waiting for the winner.
    pub waiting: i64,
    pub winner: Option<char>,
    /// When the winner is picked automatically, in the admin's time zone.
    pub decides_at: Option<String>,
    pub verdict: Verdict,
    /// The campaign is running and an admin may pick the winner now.
    pub may_pick: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(test_percent: u8, holdout_percent: u8) -> AbTest {
        AbTest { test_percent, wait_minutes: 60, pick: Pick::Auto, holdout_percent }
    }

    #[test]
    fn assignment_is_stable_and_even_across_10000_subscriptions() {
        let even = test(100, 0);
        for variants in 2..=4 {
            let mut counts = vec![0f64; variants];
            for subscription in 1..=10_000 {
                let Group::Test(v) = assign(7, subscription, &even, variants) else { panic!("everyone is tested") };
                assert_eq!(assign(7, subscription, &even, variants), Group::Test(v), "stable");
                counts[usize::from(v)] += 1.0;
            }
            let expected = 10_000.0 / variants as f64;
            let chi2: f64 = counts.iter().map(|c| (c - expected).powi(2) / expected).sum();
            // The 99.9 % points of χ² with 1, 2 and 3 degrees of freedom.
            let bound = [10.83, 13.82, 16.27][variants - 2];
            assert!(chi2 < bound, "{variants} variants: χ² = {chi2:.2} ≥ {bound} ({counts:?})");
        }
    }

    #[test]
    fn the_test_group_and_hold_out_take_their_shares() {
        let plan = test(20, 10);
        let (mut held, mut tested, mut rest) = (0, 0, 0);
        for subscription in 1..=10_000 {
            match assign(3, subscription, &plan, 2) {
                Group::HeldOut => held += 1,
                Group::Test(_) => tested += 1,
                Group::Rest => rest += 1,
            }
        }
        // 10 % held out; 20 % of the other 90 % (18 %) tested; 72 % wait for the winner.
        for (name, count, share) in [("held out", held, 0.10), ("tested", tested, 0.18), ("rest", rest, 0.72)] {
            let expected = 10_000.0 * share;
            assert!((f64::from(count) - expected).abs() < 4.0 * (expected * (1.0 - share)).sqrt(), "{name}: {count}");
        }
    }

    #[test]
    fn another_campaign_draws_its_groups_afresh() {
        let plan = test(100, 10);
        let held = |campaign| (1..=1000).filter(|s| assign(campaign, *s, &plan, 2) == Group::HeldOut).count();
        let both = (1..=1000)
            .filter(|s| assign(1, *s, &plan, 2) == Group::HeldOut && assign(2, *s, &plan, 2) == Group::HeldOut)
            .count();
        assert!(held(1) > 50 && held(2) > 50);
        assert!(both < 30, "the same people are held out every time: {both}");
    }

    fn result(letter: char, sent: i64, clicked: i64) -> VariantResult {
        VariantResult { letter, title: String::new(), targeted: sent, sent, clicked }
    }

    #[test]
    fn the_z_test_matches_a_worked_example() {
        // 120 of 1,000 against 90 of 1,000: pooled 0.105, z = 0.03 / sqrt(0.105·0.895·0.002) = 2.188,
        // two-sided p = erfc(z/√2) = 0.0287.
        let Verdict::Compared { leader, runner_up, z, p } =
            Verdict::of(&[result('A', 1000, 90), result('B', 1000, 120)])
        else {
            panic!("enough data")
        };
        assert_eq!((leader, runner_up), ('B', 'A'));
        assert!((z - 2.188).abs() < 0.001, "{z}");
        assert!((p - 0.0287).abs() < 0.0001, "{p}");
        assert!(Verdict::of(&[result('A', 1000, 90), result('B', 1000, 120)]).sentence().contains("95 %"));
        let close = Verdict::of(&[result('A', 1000, 100), result('B', 1000, 105)]);
        assert!(close.sentence().contains("could be chance"), "{}", close.sentence());
    }

    #[test]
    fn few_clicks_are_not_enough_data() {
        assert_eq!(Verdict::of(&[result('A', 40, 1), result('B', 40, 4)]), Verdict::NotEnoughData);
        assert_eq!(Verdict::of(&[result('A', 40, 10)]), Verdict::NotEnoughData);
    }

    #[test]
    fn test_settings_are_checked() {
        assert_eq!(AbTest::parse("", "", "", "").unwrap(), test(100, 0));
        assert_eq!(AbTest::parse("20", "120", "manual", "5").unwrap().pick, Pick::Manual);
        for (t, w, p, h) in [("0", "", "", ""), ("101", "", "", ""), ("", "0", "", ""), ("", "", "coin", "")] {
            assert!(AbTest::parse(t, w, p, h).is_err(), "{t} {w} {p} {h}");
        }
        assert!(AbTest::parse("", "", "", "51").is_err());
        assert!(AbTest::parse("", "10081", "", "").is_err());
    }

    #[test]
    fn a_variant_needs_a_title_and_safe_links() {
        let form = VariantForm { title: "Hi".into(), url: "/sale".into(), ..Default::default() };
        assert!(Variant::parse(&form, "variants", "Variant B").is_ok());
        let error =
            Variant::parse(&VariantForm { title: " ".into(), ..form.clone() }, "variants", "Variant B").unwrap_err();
        assert!(error.to_string().contains("Variant B"), "{error}");
        let bad_link = VariantForm { url: "javascript:alert(1)".into(), ..form };
        assert!(Variant::parse(&bad_link, "variants", "Variant C").is_err());
    }
}
