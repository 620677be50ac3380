"""What staff type in the admin follows the public forms' rule: no control characters.

A NUL (PostgreSQL cannot store one; Django's own message), an escape, a backspace or a C1
control, pasted into a call's title, a theme's name, a reviewer's note, a redaction's note, a
synthesis note or a release's notes, is refused at the field with a message; the page shown
again holds U+FFFD where it was, never the character itself (HTML forbids it). Saved, it would
break what shows it: the releases' Atom feed (XML 1.0 refuses it: a server error), the public
pages, the CSV and the emails. Every ModelAdmin and inline of the app makes its forms from
`StaffModelForm`, and Django's User and Group admins from these too (`users.py`);
tests/review/test_admin_control_characters.py checks that too.
"""

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError

from ...common.text import printable_for_html
from ...journey.forms import CleanTextMixin


class StaffTextMixin(CleanTextMixin):
    """Control characters refused in every text field of the form, naming the field."""

    one_line_rules = False

    def left_to_the_model(self, name: str, value: object) -> bool:
        # A value a model field's own validators refuse (a call's title: one line, nothing
        # invisible, and a direction override is both) gets their message alone, not two.
        # Not one that HTML cannot hold (an escape in a username): the form's instance would
        # take it before the model refused it, and the page shows the instance's name.
        model = getattr(getattr(self, "_meta", None), "model", None)
        if model is None or not isinstance(value, str) or printable_for_html(value) != value:
            return False
        try:
            model._meta.get_field(name).run_validators(value)
        except FieldDoesNotExist:
            return False
        except ValidationError:
            return True
        return False


class StaffModelForm(StaffTextMixin, forms.ModelForm):
    """The base of every ModelAdmin's and inline's form (`form = StaffModelForm`)."""
