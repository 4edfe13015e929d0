from django.urls import re_path

from accounts.api import auth, views
from homelog.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("households", views.HouseholdViewSet, basename="household")
router.register(r"households/(?P<household_pk>[0-9]+)/members", views.MembershipViewSet, basename="member")
router.register(
    r"households/(?P<household_pk>[0-9]+)/invitations",
    views.HouseholdInvitationViewSet,
    basename="household-invitation",
)
router.register("invitations", views.InvitationViewSet, basename="invitation")

urlpatterns = [
    re_path(r"^auth/login/?$", auth.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/refresh/?$", auth.RefreshView.as_view(), name="auth-refresh"),
    re_path(r"^auth/logout/?$", auth.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^auth/validate/?$", auth.ValidateView.as_view(), name="auth-validate"),
    re_path(r"^auth/password/?$", auth.PasswordView.as_view(), name="auth-password"),
    *router.urls,
]
