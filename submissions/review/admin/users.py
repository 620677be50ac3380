"""Django's own admins of users and groups, with the rule of every other admin form: no control
characters in what staff type (a user's username, first and last name and email, a group's
name), refused at the field with the same message (`staff_forms.py`). A name shows in the
admin's pages, in a submission's history and in the emails staff are sent."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group, User

from .staff_forms import StaffModelForm, StaffTextMixin


class StaffUserCreationForm(StaffTextMixin, AdminUserCreationForm):
    pass


class StaffUserChangeForm(StaffTextMixin, UserChangeForm):
    pass


class StaffUserAdmin(UserAdmin):
    add_form = StaffUserCreationForm
    form = StaffUserChangeForm


class StaffGroupAdmin(GroupAdmin):
    form = StaffModelForm


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, StaffGroupAdmin)
