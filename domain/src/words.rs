//! Amounts written out in words, as a refund act states them beside the figures.

use serde::Serialize;

use crate::locale::Locale;

/// Which form of a counted noun a number takes (Russian has three: 1 рубль, 2 рубля,
/// 5 рублей; English uses `one` and `many`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Plural {
    One,
    Few,
    Many,
}

impl Plural {
    pub fn of(n: u64, locale: Locale) -> Plural {
        match locale {
            Locale::En => {
                if n == 1 {
                    Plural::One
                } else {
                    Plural::Many
                }
            }
            Locale::Ru => ru_plural(n),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Plural::One => "one",
            Plural::Few => "few",
            Plural::Many => "many",
        }
    }
}

fn ru_plural(n: u64) -> Plural {
    let (last, last_two) = (n % 10, n % 100);
    if (11..=14).contains(&last_two) {
        Plural::Many
    } else if last == 1 {
        Plural::One
    } else if (2..=4).contains(&last) {
        Plural::Few
    } else {
        Plural::Many
    }
}

/// `n` in words, for a masculine noun in Russian (рубль): `1234` is "one thousand two
/// hundred thirty-four" or "одна тысяча двести тридцать четыре".
pub fn number_in_words(n: u64, locale: Locale) -> String {
    match locale {
        Locale::En => english(n),
        Locale::Ru => russian(n),
    }
}

const EN_ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const EN_TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const EN_SCALES: [&str; 7] = [
    "",
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
    "quintillion",
];

fn english_below_thousand(n: u64) -> String {
    let mut parts = Vec::new();
    if n >= 100 {
        parts.push(format!("{} hundred", EN_ONES[(n / 100) as usize]));
    }
    let rest = n % 100;
    if rest >= 20 {
        let tens = EN_TENS[(rest / 10) as usize];
        parts.push(match rest % 10 {
            0 => tens.to_owned(),
            ones => format!("{tens}-{}", EN_ONES[ones as usize]),
        });
    } else if rest > 0 {
        parts.push(EN_ONES[rest as usize].to_owned());
    }
    parts.join(" ")
}

fn english(n: u64) -> String {
    if n == 0 {
        return EN_ONES[0].to_owned();
    }
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push(rest % 1000);
        rest /= 1000;
    }
    let mut parts = Vec::new();
    for (scale, group) in groups.iter().enumerate().rev() {
        if *group == 0 {
            continue;
        }
        let words = english_below_thousand(*group);
        parts.push(match EN_SCALES[scale] {
            "" => words,
            name => format!("{words} {name}"),
        });
    }
    parts.join(" ")
}

const RU_ONES_MASCULINE: [&str; 20] = [
    "ноль",
    "один",
    "два",
    "три",
    "четыре",
    "пять",
    "шесть",
    "семь",
    "восемь",
    "девять",
    "десять",
    "одиннадцать",
    "двенадцать",
    "тринадцать",
    "четырнадцать",
    "пятнадцать",
    "шестнадцать",
    "семнадцать",
    "восемнадцать",
    "девятнадцать",
];
const RU_TENS: [&str; 10] = [
    "",
    "",
    "двадцать",
    "тридцать",
    "сорок",
    "пятьдесят",
    "шестьдесят",
    "семьдесят",
    "восемьдесят",
    "девяносто",
];
const RU_HUNDREDS: [&str; 10] = [
    "",
    "сто",
    "двести",
    "триста",
    "четыреста",
    "пятьсот",
    "шестьсот",
    "семьсот",
    "восемьсот",
    "девятьсот",
];
/// Thousands are feminine (одна тысяча, две тысячи); the larger scales masculine.
const RU_SCALES: [(&str, &str, &str, bool); 7] = [
    ("", "", "", false),
    ("тысяча", "тысячи", "тысяч", true),
    ("миллион", "миллиона", "миллионов", false),
    ("миллиард", "миллиарда", "миллиардов", false),
    ("триллион", "триллиона", "триллионов", false),
    ("квадриллион", "квадриллиона", "квадриллионов", false),
    ("квинтиллион", "квинтиллиона", "квинтиллионов", false),
];

fn russian_below_thousand(n: u64, feminine: bool) -> Vec<&'static str> {
    let mut parts = Vec::new();
    if n >= 100 {
        parts.push(RU_HUNDREDS[(n / 100) as usize]);
    }
    let rest = n % 100;
    if rest >= 20 {
        parts.push(RU_TENS[(rest / 10) as usize]);
    }
    let ones = if rest >= 20 { rest % 10 } else { rest };
    if ones > 0 {
        parts.push(match (ones, feminine) {
            (1, true) => "одна",
            (2, true) => "две",
            _ => RU_ONES_MASCULINE[ones as usize],
        });
    }
    parts
}

fn russian(n: u64) -> String {
    if n == 0 {
        return RU_ONES_MASCULINE[0].to_owned();
    }
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push(rest % 1000);
        rest /= 1000;
    }
    let mut parts: Vec<&str> = Vec::new();
    for (scale, group) in groups.iter().enumerate().rev() {
        if *group == 0 {
            continue;
        }
        let (one, few, many, feminine) = RU_SCALES[scale];
        parts.extend(russian_below_thousand(*group, feminine));
        if scale > 0 {
            parts.push(match ru_plural(*group) {
                Plural::One => one,
                Plural::Few => few,
                Plural::Many => many,
            });
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_numbers() {
        let en = |n| number_in_words(n, Locale::En);
        assert_eq!(en(0), "zero");
        assert_eq!(en(15), "fifteen");
        assert_eq!(en(40), "forty");
        assert_eq!(en(1234), "one thousand two hundred thirty-four");
        assert_eq!(en(1_000_005), "one million five");
        assert_eq!(en(20_100), "twenty thousand one hundred");
    }

    #[test]
    fn russian_numbers_agree_with_their_scale() {
        let ru = |n| number_in_words(n, Locale::Ru);
        assert_eq!(ru(1), "один");
        assert_eq!(ru(1234), "одна тысяча двести тридцать четыре");
        assert_eq!(ru(2000), "две тысячи");
        assert_eq!(ru(5_000), "пять тысяч");
        assert_eq!(ru(11_000), "одиннадцать тысяч");
        assert_eq!(ru(21_000), "двадцать одна тысяча");
        assert_eq!(ru(2_000_000), "два миллиона");
        assert_eq!(ru(112), "сто двенадцать");
    }

    #[test]
    fn russian_plural_forms() {
        let forms: Vec<&str> = [1, 2, 5, 11, 12, 21, 22, 25, 101, 111]
            .iter()
            .map(|n| Plural::of(*n, Locale::Ru).as_str())
            .collect();
        assert_eq!(
            forms,
            ["one", "few", "many", "many", "many", "one", "few", "many", "one", "many"]
        );
        assert_eq!(Plural::of(1, Locale::En), Plural::One);
        assert_eq!(Plural::of(0, Locale::En), Plural::Many);
    }
}
