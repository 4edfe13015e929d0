from rest_framework.exceptions import PermissionDenied


def require(allowed, obj, message):
    """403 with `message` unless `obj` is among `allowed` (a queryset such as `editable_by(user)`).

    Views call this only for objects they found through `visible_to(user)`: an object the user cannot
    even see was a 404 before it got here.
    """
    if not allowed.filter(pk=obj.pk).exists():
        raise PermissionDenied(message)
