"""jingce (精测): an open industrial measurement system.

Layers (imports point downward only), see DESIGN.md::

    cli/ api/ web/        thin edges
    services/             use cases
    engine/               batch analytics over the lake
    store/ formats/ collect/ charts/
    model/                domain entities (pydantic v2)
    kernels/              pure numerics
"""

__version__ = "0.1.0"
