"""The registry of model families: name -> Keras model class."""

import inspect

import keras

_MODELS = {}


def register_model(name):
    """Class decorator: list the family under `name` and make it Keras-serializable."""

    def decorate(cls):
        if name in _MODELS:
            raise ValueError(f"Model family {name!r} is registered twice.")
        cls = keras.saving.register_keras_serializable(package="arzoo")(cls)
        cls.family = name
        _MODELS[name] = cls
        return cls

    return decorate


def list_models(modality=None):
    """Names of every registered family, sorted; only those whose events are
    `modality` ("image" or "audio") when given."""
    return sorted(
        name for name, cls in _MODELS.items() if modality is None or cls.modality == modality
    )


def get_model_class(name):
    """The class registered as `name`; a ValueError lists the known names."""
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(
            f"Unknown model family {name!r}; registered: {', '.join(list_models())}."
        ) from None


def constructor_arguments(cls):
    """The keyword arguments the constructors of `cls` (its arzoo classes)
    take, less those it replaces (PixelCNN++ names num_mixtures
    num_logistic_mix): what a config's `model:` section may hold."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" in klass.__dict__ and klass.__module__.startswith("arzoo"):
            for name, param in inspect.signature(klass.__init__).parameters.items():
                if name != "self" and param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                    names.add(name)
    return names - set(getattr(cls, "replaced_arguments", ()))
