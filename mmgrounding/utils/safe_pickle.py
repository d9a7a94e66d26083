"""Read pickles of plain data without running the code a pickle can carry.

A pickle names functions and classes (``GLOBAL`` / ``STACK_GLOBAL`` opcodes) and calls them
while it is read: ``pickle.load`` on a downloaded file can run ``os.system``. The annotation
pickles this project reads (the REFER ``refs(<split_by>).p`` files) hold only dicts, lists,
tuples, strings, numbers, None and bools, which pickle builds with opcodes of their own and
never through a global; :class:`PlainDataUnpickler` therefore refuses every global.
"""

import io
import pickle


class ForbiddenGlobalError(pickle.UnpicklingError):
    """A pickle of plain data asked for a global (a function or class it would call).

    Attributes:
        module: the module the pickle names, e.g. ``'posix'``.
        name: the global in it, e.g. ``'system'``.
    """

    def __init__(self, module: str, name: str) -> None:
        super().__init__(f'forbidden global {module}.{name}')
        self.module = module
        self.name = name

    @property
    def qualified_name(self) -> str:
        return f'{self.module}.{self.name}'


class PlainDataUnpickler(pickle.Unpickler):
    """An unpickler that admits dicts, lists, tuples, strings, numbers, None and bools.

    Every global lookup raises :class:`ForbiddenGlobalError` before anything is imported or
    called, so a payload's side effect never happens.
    """

    def find_class(self, module: str, name: str):  # noqa: D102 (pickle's hook)
        raise ForbiddenGlobalError(module, name)


def loads_plain_data(data: bytes, *, encoding: str = 'ASCII') -> object:
    """Unpickle ``data`` with :class:`PlainDataUnpickler`.

    Args:
        data: the pickle's bytes.
        encoding: how Python 2 ``str`` objects are decoded (``'latin1'`` for the REFER
            files' non-ASCII strings), as in :func:`pickle.loads`.

    Raises:
        ForbiddenGlobalError: the pickle names a function or class.
        pickle.UnpicklingError, EOFError, ValueError, ...: the data is not a valid pickle.
    """
    return PlainDataUnpickler(io.BytesIO(data), encoding=encoding).load()
