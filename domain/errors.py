"""Named domain errors: one class for each way a command can break a rule of SPEC §1.

Each error carries the rule number it enforces and a message a reviewer understands.
The CLI turns every `DomainError` into exit code 1; nothing is written when one is raised.
"""


class DomainError(Exception):
    """A command refused by a ledger rule."""

    rule: int | None = None

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    @property
    def name(self) -> str:
        return type(self).__name__

    def __str__(self) -> str:
        where = f"rule {self.rule}, " if self.rule else ""
        return f"Refused ({where}{self.name}): {self.message}"


# Rule 1: everything referred to exists; ids are unique when registering.
class NotFound(DomainError):
    rule = 1


class UnknownProfessional(NotFound):
    pass


class UnknownReviewer(NotFound):
    pass


class UnknownNetwork(NotFound):
    pass


class UnknownClaim(NotFound):
    pass


class PersonErased(NotFound):
    """The person was erased (SPEC §9): their personal data and their link to the ledger are gone."""


class NotEncrypted(DomainError):
    """Erasure asked of a store made before personal data were encrypted (SPEC §9)."""


class AlreadyRegistered(DomainError):
    rule = 1


# Rule 2: the claim's activity date, the claimant and the network.
class ClaimRule(DomainError):
    rule = 2


class ActivityDateInFuture(ClaimRule):
    pass


class ActivityBeforeRegistration(ClaimRule):
    pass


class ClaimantDeregistered(ClaimRule):
    pass


class ClaimantMustBeNetworkMember(ClaimRule):
    pass


class NetworkMustBeOpen(ClaimRule):
    pass


# Rule 3: endorsements.
class EndorsementRule(DomainError):
    rule = 3


class EndorserMustBeRegistered(EndorsementRule):
    pass


class EndorserMustNotBeClaimant(EndorsementRule):
    pass


class EndorserMustBeNetworkMember(EndorsementRule):
    pass


class AlreadyEndorsed(EndorsementRule):
    pass


class ClaimNotOpenForEndorsement(EndorsementRule):
    pass


# Rule 4: who decides, and on what.
class DecisionRule(DomainError):
    rule = 4


class ReviewerNotActive(DecisionRule):
    pass


class ReviewerMustNotBeClaimant(DecisionRule):
    pass


class ReviewerMustNotHaveEndorsed(DecisionRule):
    pass


class ClaimNotAwaitingDecision(DecisionRule):
    pass


# Rule 5: what an approval and the other decisions need.
class ApprovalRule(DomainError):
    rule = 5


class NotEnoughEndorsements(ApprovalRule):
    pass


class PointsOutOfRange(ApprovalRule):
    pass


class RationaleRequired(ApprovalRule):
    pass


class ReasonRequired(ApprovalRule):
    pass


# Rule 6: only the claimant withdraws or amends, while submitted or returned.
class ClaimantRule(DomainError):
    rule = 6


class OnlyClaimantMayChangeClaim(ClaimantRule):
    pass


class ClaimNotChangeable(ClaimantRule):
    pass


# Rule 7: only an approved claim is revoked, by a reviewer other than the claimant.
class RevocationRule(DomainError):
    rule = 7


class OnlyApprovedClaimCanBeRevoked(RevocationRule):
    pass


class RevokerMustNotBeClaimant(RevocationRule):
    pass


# Rule 8: no back-dated contradiction. A dated fact recorded later may not make something
# already recorded break rules 2–4. Each names the affected claims (or decisions).
class BackdatedContradiction(DomainError):
    rule = 8

    def __init__(self, message: str, claims: list[str] | None = None):
        super().__init__(message)
        self.claims = sorted(claims or [])


class LeaveContradictsClaims(BackdatedContradiction):
    pass


class CloseContradictsClaims(BackdatedContradiction):
    pass


class DeregistrationContradictsClaims(BackdatedContradiction):
    pass


class RetirementContradictsDecisions(BackdatedContradiction):
    pass


class JoinBeforeRegistration(BackdatedContradiction):
    pass


class JoinBeforeFounding(BackdatedContradiction):
    pass


# Rule 9: separation of duties is historical.
class SeparationOfDuties(DomainError):
    rule = 9


class ReviewerEndorsedBefore(SeparationOfDuties):
    pass


# Rule 10: approval re-checks the claimant and every counted endorser.
class ApprovalRecheck(DomainError):
    rule = 10


class ClaimantNoLongerEligible(ApprovalRecheck):
    pass


class NotEnoughValidEndorsements(ApprovalRecheck):
    pass


# Corrections: each cancels a dated fact, and only one that was recorded.
class NothingToCorrect(DomainError):
    pass


class NotDeregistered(NothingToCorrect):
    pass


class NotRetired(NothingToCorrect):
    pass


class NetworkNotClosed(NothingToCorrect):
    pass


class NoLeaveToCancel(NothingToCorrect):
    pass


class NoSuchPolicyVersion(NothingToCorrect):
    pass


class PolicyVersionInForce(DomainError):
    pass


class ProfessionalDeregistered(DomainError):
    """A membership change for a professional who is deregistered on that date."""


# Rules about registrations, memberships and the policy that SPEC §1 implies.
class DateOutOfOrder(DomainError):
    """A date that contradicts an earlier one (leaving before joining, closing before founding)."""


class AlreadyDeregistered(DomainError):
    pass


class AlreadyRetired(DomainError):
    pass


class NetworkAlreadyClosed(DomainError):
    pass


class AlreadyMember(DomainError):
    pass


class NotAMember(DomainError):
    pass


class PolicyNotLater(DomainError):
    pass


class RequestIdReused(DomainError):
    """The same --request-id was used before for a different command or content."""
