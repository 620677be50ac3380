"""The forms of a contributor's status page; the credit details are those of About you."""

from django import forms

from ..journey.forms import CreditDetailsForm, ShowsBackPrintableMixin

__all__ = ["CreditDetailsForm", "WithdrawalForm"]


class WithdrawalForm(ShowsBackPrintableMixin, forms.Form):
    confirm = forms.BooleanField(
        label="I want my submission withdrawn and my details and evidence erased",
        error_messages={"required": "Tick the box to confirm that you want it withdrawn"},
    )
