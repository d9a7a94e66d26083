import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmgrounding module so that its registry entries exist.

    Args:
        init_default_scope: make ``mmgrounding`` the current default scope, as mmdet's
            function of the same name does for ``mmdet``.
    """
    import mmgrounding.datasets  # noqa: F401
    import mmgrounding.engine  # noqa: F401
    import mmgrounding.evaluation  # noqa: F401
    import mmgrounding.models  # noqa: F401
    import mmgrounding.visualization  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('mmgrounding'):
        DefaultScope.get_instance('mmgrounding', scope_name='mmgrounding')
    elif current.scope_name != 'mmgrounding':
        warnings.warn(
            f'the current default scope is "{current.scope_name}"; register_all_modules '
            'switches it to "mmgrounding" (pass init_default_scope=False to keep it)',
            stacklevel=2)
        DefaultScope.get_instance(
            f'mmgrounding-{datetime.datetime.now()}', scope_name='mmgrounding')
