"""The forms of a contributor's status page; the credit details are those of About you."""

from django import forms

from ..journey.forms import CleanTextMixin, CreditDetailsForm, ShowsBackPrintableMixin

__all__ = ["CreditDetailsForm", "StatusLinkRequestForm", "WithdrawalForm"]


class WithdrawalForm(ShowsBackPrintableMixin, forms.Form):
    confirm = forms.BooleanField(
        label="I want my submission withdrawn and my details and evidence erased",
        error_messages={"required": "Tick the box to confirm that you want it withdrawn"},
    )


class StatusLinkRequestForm(CleanTextMixin, forms.Form):
    """ "Lost your link?": the address a submission was sent from."""

    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="The address you gave when you sent your evidence. We send the new link there.",
        error_messages={
            "required": "Enter the email address you gave when you sent your evidence",
            "invalid": "Enter an email address in the correct format, like name@example.org",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(autocomplete="email", spellcheck="false")
