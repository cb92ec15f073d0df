"""Connected-digit vocabulary, greedy CTC decoding and word error rate, in numpy.

Why: a CTC recogniser's hardware output is one softmax per frame; turning it
into words is a few lines on the host, and the fixed-point C simulation and
the float model must be scored by exactly the same code.  Keras' own
``ctc_decode`` needs TensorFlow tensors and a padded batch; utterances coming
back from the hardware one at a time are plain arrays of different lengths.

Tokens: the CTC blank is 0 (Keras' ``ctc_loss``/``ctc_decode`` default
``mask_index=0``); the 11 words "zero", "oh", "one" ... "nine" are 1..11.
"zero" and "oh" are different words (as in TIDIGITS) but the same digit.

Scores, over a list of reference and hypothesis token sequences:

* word error rate: (substitutions + insertions + deletions) / reference words,
  the edits counted by Levenshtein distance between word sequences;
* sentence accuracy: the fraction of utterances whose words are all right;
* digit-string accuracy: the fraction whose digit strings match ("oh" and
  "zero" both read 0), what a caller dialling the number gets.

    from masr_hls.training import ctc
    hyps = [ctc.greedy_decode(p) for p in per_frame_probabilities]
    print(ctc.score(refs, hyps).summary())
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORDS = ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
BLANK = 0
CLASSES = 1 + len(WORDS)  # the blank and the words: the width of the per-frame softmax
DIGITS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}


# --------------------------------------------------------------------------- tokens and words


def token(word: str) -> int:
    """The token id of a word."""
    if word not in WORDS:
        raise ValueError(f"{word!r} is not a word of the vocabulary {list(WORDS)}")
    return 1 + WORDS.index(word)


def tokens_of(words) -> list[int]:
    """Token ids of words, given as a sequence or a space-separated string."""
    return [token(w) for w in (words.split() if isinstance(words, str) else words)]


def words_of(tokens) -> list[str]:
    """Words of token ids (the blank is refused: a decoded sequence holds none)."""
    out = []
    for t in tokens:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= len(WORDS):
            raise ValueError(f"token {t!r} is not a word: words are 1..{len(WORDS)}, {BLANK} is the blank")
        out.append(WORDS[int(t) - 1])
    return out


def text(tokens) -> str:
    return " ".join(words_of(tokens))


def digits(tokens) -> str:
    """The digit string of token ids ("oh" and "zero" both read 0)."""
    return "".join(DIGITS[w] for w in words_of(tokens))


# --------------------------------------------------------------------------- decoding


def greedy_decode(probabilities, length: int | None = None, blank: int = BLANK) -> list[int]:
    """Best path: the most likely class of every frame, repeats merged, blanks removed.

    ``probabilities``: (frames, classes) scores of one utterance (probabilities,
    logits or log-probabilities: only the argmax counts); ``length``: frames
    that belong to the utterance (the rest is padding).
    """
    p = np.asarray(probabilities)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"expected (frames, classes) scores with at least 2 classes, got shape {p.shape}")
    if length is not None:
        if not 0 <= length <= len(p):
            raise ValueError(f"length {length} is outside 0..{len(p)} frames")
        p = p[:length]
    best = np.argmax(p, axis=1)
    keep = np.ones(len(best), bool)
    keep[1:] = best[1:] != best[:-1]
    return [int(t) for t in best[keep] if t != blank]


def greedy_decode_batch(probabilities, lengths=None, blank: int = BLANK) -> list[list[int]]:
    """:func:`greedy_decode` of every utterance of a padded batch (or a list of (frames, classes) arrays)."""
    if lengths is None:
        return [greedy_decode(p, blank=blank) for p in probabilities]
    if len(lengths) != len(probabilities):
        raise ValueError(f"{len(lengths)} lengths for {len(probabilities)} utterances")
    return [greedy_decode(p, int(n), blank) for p, n in zip(probabilities, lengths)]


# --------------------------------------------------------------------------- scoring


def edit_distance(reference, hypothesis) -> int:
    """Levenshtein distance between two sequences (substitutions, insertions and deletions cost 1)."""
    ref, hyp = list(reference), list(hypothesis)
    row = list(range(len(hyp) + 1))  # distances from the empty prefix of the reference
    for i, r in enumerate(ref, 1):
        previous, row = row, [i]
        for j, h in enumerate(hyp, 1):
            row.append(min(previous[j - 1] + (r != h), previous[j] + 1, row[j - 1] + 1))
    return row[-1]


@dataclass(frozen=True)
class Score:
    """Errors over a set of utterances; the rates are properties."""

    errors: int  # word edits
    words: int  # reference words
    sentences_right: int
    digit_strings_right: int
    utterances: int

    @property
    def wer(self) -> float:
        return self.errors / self.words if self.words else 0.0

    @property
    def sentence_accuracy(self) -> float:
        return self.sentences_right / self.utterances if self.utterances else 0.0

    @property
    def digit_string_accuracy(self) -> float:
        return self.digit_strings_right / self.utterances if self.utterances else 0.0

    def summary(self) -> str:
        return (
            f"WER {self.wer:.2%} ({self.errors} errors in {self.words} words), "
            f"digit strings {self.digit_string_accuracy:.1%} right, sentences {self.sentence_accuracy:.1%} "
            f"({self.utterances} utterances)"
        )


def score(references, hypotheses) -> Score:
    """Word error rate, sentence and digit-string accuracy of token sequences against their references."""
    references, hypotheses = list(references), list(hypotheses)
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    errors = sum(edit_distance(r, h) for r, h in zip(references, hypotheses))
    return Score(
        errors=errors,
        words=sum(len(r) for r in references),
        sentences_right=sum(list(r) == list(h) for r, h in zip(references, hypotheses)),
        digit_strings_right=sum(digits(r) == digits(h) for r, h in zip(references, hypotheses)),
        utterances=len(references),
    )


def word_error_rate(references, hypotheses) -> float:
    return score(references, hypotheses).wer
