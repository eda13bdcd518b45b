//! Language routing: a post goes to the model trained for its language, or is left unscored
//! with the reason. The platform's language tag wins; otherwise the text is detected, and
//! only a reliable detection can move a post away from the primary model.

use super::model::TransformerScorer;
use super::{ScoreInput, Scorer, ScoringError};
use crate::domain::SentimentOutcome;

/// The primary model plus an optional multilingual one.
pub struct LanguageRouter {
    primary: TransformerScorer,
    secondary: Option<TransformerScorer>,
    name: String,
}

impl LanguageRouter {
    pub fn new(primary: TransformerScorer, secondary: Option<TransformerScorer>) -> LanguageRouter {
        let name = match &secondary {
            Some(secondary) => format!("{}+{}", primary.name(), secondary.name()),
            None => primary.name().to_owned(),
        };
        LanguageRouter {
            primary,
            secondary,
            name,
        }
    }

    /// Scores each input with the model for its language (the primary one on `prepared`'s
    /// tokens when given), or leaves it unscored when no model covers it.
    fn route_and_score(
        &mut self,
        inputs: &[ScoreInput],
        prepared: Option<&[super::Prepared]>,
    ) -> Result<Vec<SentimentOutcome>, ScoringError> {
        enum Route {
            Primary,
            Secondary,
            Unscored(String),
        }
        let mut routed = Vec::with_capacity(inputs.len());
        for input in inputs {
            let lang = language_of(input);
            let route = match lang.as_deref() {
                None => Route::Primary,
                Some(lang) if self.primary.manifest().covers(lang) => Route::Primary,
                Some(lang) if self.secondary.as_ref().is_some_and(|s| s.manifest().covers(lang)) => Route::Secondary,
                Some(lang) => Route::Unscored(format!("no model for language {lang:?}")),
            };
            let input = ScoreInput {
                text: input.text.clone(),
                lang_hint: lang,
            };
            routed.push((route, input));
        }
        let primary_inputs: Vec<ScoreInput> = routed
            .iter()
            .filter(|(r, _)| matches!(r, Route::Primary))
            .map(|(_, i)| i.clone())
            .collect();
        let secondary_inputs: Vec<ScoreInput> = routed
            .iter()
            .filter(|(r, _)| matches!(r, Route::Secondary))
            .map(|(_, i)| i.clone())
            .collect();
        let mut primary_out = match prepared {
            Some(prepared) => {
                let primary_prepared: Vec<super::Prepared> = routed
                    .iter()
                    .zip(prepared)
                    .filter(|((r, _), _)| matches!(r, Route::Primary))
                    .map(|(_, p)| p.clone())
                    .collect();
                self.primary.score_prepared(&primary_inputs, &primary_prepared)?
            }
            None => self.primary.score_batch(&primary_inputs)?,
        }
        .into_iter();
        let mut secondary_out = match &mut self.secondary {
            Some(secondary) if !secondary_inputs.is_empty() => secondary.score_batch(&secondary_inputs)?,
            _ => Vec::new(),
        }
        .into_iter();
        routed
            .into_iter()
            .map(|(route, input)| {
                let missing = || ScoringError::Inference("a routed model returned too few results".into());
                match route {
                    Route::Primary => primary_out.next().ok_or_else(missing),
                    Route::Secondary => secondary_out.next().ok_or_else(missing),
                    Route::Unscored(reason) => Ok(SentimentOutcome::Unscored {
                        reason,
                        language: input.lang_hint,
                    }),
                }
            })
            .collect()
    }
}

/// The post's language as ISO 639-1 where known: the platform's tag, else a reliable
/// detection, else `None` (undetermined).
pub fn language_of(input: &ScoreInput) -> Option<String> {
    if let Some(hint) = input.lang_hint.as_deref() {
        let primary = hint.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        // X marks media-only or undetermined posts with these codes.
        if !primary.is_empty() && !matches!(primary.as_str(), "und" | "qme" | "qht" | "qam" | "zxx" | "art") {
            return Some(primary);
        }
    }
    let info = whatlang::detect(&input.text)?;
    if !info.is_reliable() {
        return None;
    }
    Some(iso639_1(info.lang()).to_owned())
}

fn iso639_1(lang: whatlang::Lang) -> &'static str {
    use whatlang::Lang::*;
    match lang {
        Eng => "en",
        Spa => "es",
        Por => "pt",
        Fra => "fr",
        Deu => "de",
        Ita => "it",
        Nld => "nl",
        Rus => "ru",
        Ukr => "uk",
        Pol => "pl",
        Tur => "tr",
        Ara => "ar",
        Heb => "he",
        Hin => "hi",
        Jpn => "ja",
        Kor => "ko",
        Cmn => "zh",
        Ind => "id",
        Vie => "vi",
        Tha => "th",
        Swe => "sv",
        Dan => "da",
        Nob => "no",
        Fin => "fi",
        Ces => "cs",
        Ell => "el",
        Hun => "hu",
        Ron => "ro",
        other => other.code(),
    }
}

impl Scorer for LanguageRouter {
    fn name(&self) -> &str {
        &self.name
    }

    /// The primary model's preparation: a post for the secondary model is measured with the
    /// primary's tokenizer, close enough to bucket, and tokenized again by its own model.
    fn preparer(&self) -> Option<super::Prepare> {
        self.primary.preparer()
    }

    fn score_batch(&mut self, inputs: &[ScoreInput]) -> Result<Vec<SentimentOutcome>, ScoringError> {
        self.route_and_score(inputs, None)
    }

    fn score_prepared(
        &mut self,
        inputs: &[ScoreInput],
        prepared: &[super::Prepared],
    ) -> Result<Vec<SentimentOutcome>, ScoringError> {
        self.route_and_score(inputs, Some(prepared))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str, hint: Option<&str>) -> ScoreInput {
        ScoreInput {
            text: text.into(),
            lang_hint: hint.map(str::to_owned),
        }
    }

    #[test]
    fn platform_tags_win_and_placeholder_tags_fall_back_to_detection() {
        assert_eq!(language_of(&input("hola", Some("pt-BR"))).as_deref(), Some("pt"));
        let spanish = "El vuelo se retrasó cinco horas y nadie nos dio ninguna explicación ni ayuda";
        assert_eq!(language_of(&input(spanish, Some("und"))).as_deref(), Some("es"));
        let english = "My flight was delayed five hours and nobody gave us any explanation or help at all";
        assert_eq!(language_of(&input(english, None)).as_deref(), Some("en"));
    }

    #[test]
    fn short_texts_stay_undetermined() {
        assert_eq!(language_of(&input("ok", None)), None);
    }
}
