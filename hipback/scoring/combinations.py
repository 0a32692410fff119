"""Published combinations of history findings, translated into hipback's answers.

They bound what a questionnaire may claim (README, "How sure can a questionnaire be?"):
``hipback evidence`` and the README show hipback's own figure beside each
published one, and the tests hold every expressible one within a factor of 2.
The ``domain_decay`` setting was fitted to these rows, never to case vignettes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hipback.bank.model import Bank, Direction
from hipback.scoring.engine import assess


@dataclass(frozen=True)
class Combination:
    """One published combination and how hipback's answers express it.

    Attributes:
        name: the study, as cited.
        items: the history items of the combination, in the study's words.
        population: who was studied, against what reference standard.
        toward: the side a positive combination points to.
        published: the published positive likelihood ratio (None: the study
            gives no such figure).
        published_text: the published figure as reported.
        answers: hipback's translation (empty: it cannot be expressed).
        not_expressed: what of the combination hipback's answers cannot say.
    """

    name: str
    items: str
    population: str
    toward: Direction
    published: float | None
    published_text: str
    answers: Mapping[str, str | int] = field(default_factory=dict)
    not_expressed: str = ""


COMBINATIONS: tuple[Combination, ...] = (
    Combination(
        name="Cook C et al. Physiother Res Int 2011;16:170-178",
        items="bilateral symptoms, leg pain more than back pain, pain on walking or standing,"
        " relief on sitting, age > 48 (4 or more of 5)",
        population="1,448 patients with back and leg pain; stenosis against other back pain",
        toward="spine",
        published=4.6,
        published_text="LR+ 4.6 (95% CI 2.4-8.9)",
        answers={
            "sides": "both_sides",
            "worst_site": "back_thigh",
            "worse_with": "walking;standing",
            "eased_by": "sitting",
            "age": 60,
        },
        not_expressed="'leg pain more than back pain' is read as the back of the thigh being"
        " the worst site; age does not tell the spine from the hip, so it counts for nothing",
    ),
    Combination(
        name="Sugioka T et al. Fam Pract 2008;25:237-244",
        items="age, duration over 6 months, better bending forward, not better bending"
        " backward, worse standing, claudication relieved by rest (top quartile of the score)",
        population="468 patients with leg pain or numbness, 47% stenosis",
        toward="spine",
        published=2.1,
        published_text="top quartile 65.5% stenosis (stratum LR about 2.1)",
        answers={
            "age": 70,
            "duration": "over_12_weeks",
            "eased_by": "leaning_forward;rest",
            "worse_with": "standing;walking",
            "walking_onset": "after_a_distance",
        },
        not_expressed="duration over 6 months is read as over 12 weeks; 'not better bending"
        " backward' has no answer; age, duration and rest count for nothing between spine"
        " and hip",
    ),
    Combination(
        name="Konno S, self-reported stenosis questionnaire (SSHQ), DISTO study,"
        " J Orthop Sci 2015;20:805-810",
        items="age, leg numbness or pain, worse on standing or walking, relief on sitting"
        " or bending forward",
        population="33,545 adults aged 50 or more in primary care, 30% stenosis",
        toward="spine",
        published=2.7,
        published_text="sensitivity 68%, specificity 75%: LR+ 2.7",
        answers={
            "age": 60,
            "tingling_numbness": "yes",
            "worse_with": "walking",
            "eased_by": "sitting",
        },
        not_expressed="the questionnaire's scoring of each item",
    ),
    Combination(
        name="Altman R et al. Arthritis Rheum 1991;34:505-514 (ACR clinical criteria)",
        items="pain on internal rotation, morning stiffness of 60 minutes or less, age > 50",
        population="hip osteoarthritis against other hip pain",
        toward="hip",
        published=3.4,
        published_text="LR+ 3.4, LR- 0.19",
        answers={"rotation_pain": "yes", "morning_stiffness": "under_1h", "age": 60},
        not_expressed="pain on internal rotation is the person's own report, not the examiner's",
    ),
    Combination(
        name="Sutlive TG et al. J Orthop Sports Phys Ther 2008;38:542-550",
        items="squatting aggravates, plus four examination findings (4 or more of 5)",
        population="72 patients with one-sided hip pain, X-ray osteoarthritis",
        toward="hip",
        published=24.3,
        published_text="LR+ 24.3 (post-test 91%)",
        not_expressed="four of the five findings are examination findings; the history item"
        " alone has no published figure",
    ),
    Combination(
        name="Konno S et al. Eur Spine J 2007;16:1951-1957 (clinical tool)",
        items="history and examination",
        population="468 patients with leg pain or numbness",
        toward="spine",
        published=None,
        published_text="top quartile 99% stenosis",
        not_expressed="only with the examination",
    ),
    Combination(
        name="Vroomen PC et al. J Neurol Neurosurg Psychiatry 2002;72:630-634",
        items="history items together",
        population="radiating leg pain, MRI nerve-root compression",
        toward="spine",
        published=None,
        published_text="AUC 0.80 (no likelihood ratio)",
        not_expressed="the study reports an area under the curve, not a likelihood ratio",
    ),
)


def implied_likelihood_ratio(bank: Bank, combination: Combination) -> float | None:
    """What hipback makes of the translated answers: posterior over prior odds,
    toward the combination's side (None when it cannot be expressed)."""
    if not combination.answers:
        return None
    ratio = assess(bank, combination.answers).implied_likelihood_ratio
    return ratio if combination.toward == "spine" else 1.0 / ratio
