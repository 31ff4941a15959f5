"""The sync client shared by the kiosk and the mobile app.

A typed asyncio client over the cloud's gRPC services that hides protobuf, caches
the catalog, keeps an outbox of mutations while the cloud is unreachable and
replays them exactly once (idempotency keys), fails over between replicas with
backoff, and offers ``watch(cart_id)`` as an async iterator that resumes from the
last version it saw. Face pay and payment calls are never queued (see ``client.py``).
"""
from cloud.client.client import RetryPolicy, SyncClient
from cloud.client.errors import ClientError, CloudUnavailable, VersionConflict
from cloud.client.types import (
    Cart,
    CartEvent,
    CartLine,
    CartStatus,
    ChangeKind,
    FaceConsent,
    FaceDataDeletion,
    FaceEnrollment,
    FaceEnrollmentStatus,
    FaceMatch,
    FitProfile,
    Fulfilment,
    IntentState,
    Money,
    Order,
    OrderPage,
    PairingCode,
    PaymentIntent,
    PaymentLine,
    PaymentPinStatus,
    Product,
    ProductPage,
    QueuedMutation,
    Receipt,
    ReceiptLine,
    Session,
    Store,
    Variant,
)

__all__ = [
    "Cart",
    "CartEvent",
    "CartLine",
    "CartStatus",
    "ChangeKind",
    "ClientError",
    "CloudUnavailable",
    "FaceConsent",
    "FaceDataDeletion",
    "FaceEnrollment",
    "FaceEnrollmentStatus",
    "FaceMatch",
    "FitProfile",
    "Fulfilment",
    "IntentState",
    "Money",
    "Order",
    "OrderPage",
    "PairingCode",
    "PaymentIntent",
    "PaymentLine",
    "PaymentPinStatus",
    "Product",
    "ProductPage",
    "QueuedMutation",
    "Receipt",
    "ReceiptLine",
    "RetryPolicy",
    "Session",
    "Store",
    "SyncClient",
    "Variant",
    "VersionConflict",
]
