//! The domain's row ids (`TaskId`, `MentionId`, …) as SQL values: bound and read as the
//! `BIGINT`/`INTEGER` they are stored as, so queries take and give the typed id.

use sqlx::any::AnyTypeInfo;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Any, Database, Decode, Encode, Type};

use crate::domain::{AlertId, DeliveryId, MentionId, PostId, ReplyId, TaskId};

macro_rules! sql_row_id {
    ($($name:ident),+ $(,)?) => {$(
        impl Type<Any> for $name {
            fn type_info() -> AnyTypeInfo {
                <i64 as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <i64 as Type<Any>>::compatible(ty)
            }
        }

        impl<'q> Encode<'q, Any> for $name {
            fn encode_by_ref(&self, buf: &mut <Any as Database>::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
                <i64 as Encode<'q, Any>>::encode_by_ref(&self.get(), buf)
            }
        }

        impl<'r> Decode<'r, Any> for $name {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                <i64 as Decode<'r, Any>>::decode(value).map(Self::new)
            }
        }
    )+};
}

sql_row_id!(TaskId, MentionId, PostId, ReplyId, AlertId, DeliveryId);
