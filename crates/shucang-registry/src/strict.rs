//! Struct fields that accept only a JSON object. serde's derived struct
//! deserializer also accepts a sequence and fills the fields by position
//! (`[null, 3]` for `{"a": null, "b": 3}`), which an API must refuse: the
//! document says object, and a client that sends an array has made a
//! mistake the server should name, not guess around. Used with
//! `#[serde(deserialize_with = …)]` on every struct-typed field of the
//! application form.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Reads a `T` that must be written as an object.
struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

/// A struct written as an object, never as an array.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(ObjectVisitor(PhantomData))
}

/// An optional struct: `null`, or an object.
pub fn optional_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    struct OptionVisitor<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for OptionVisitor<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("null or an object")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
            object(d).map(Some)
        }
    }
    d.deserialize_option(OptionVisitor(PhantomData))
}

/// A list of structs, each written as an object.
pub fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    /// One element, read with [`object`].
    struct Element<T>(T);
    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Element<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            object(d).map(Element)
        }
    }
    struct ListVisitor<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of objects")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
            let list: Vec<Element<T>> = Deserialize::deserialize(SeqAccessDeserializer::new(seq))?;
            Ok(list.into_iter().map(|e| e.0).collect())
        }
    }
    d.deserialize_seq(ListVisitor(PhantomData))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Inner {
        a: Option<i64>,
        b: Option<i64>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Outer {
        #[serde(deserialize_with = "super::object")]
        one: Inner,
        #[serde(deserialize_with = "super::optional_object")]
        maybe: Option<Inner>,
        #[serde(deserialize_with = "super::objects")]
        many: Vec<Inner>,
    }

    #[test]
    fn objects_are_read_and_arrays_in_their_place_refused() {
        let ok: Outer =
            serde_json::from_str(r#"{"one":{"a":1},"maybe":null,"many":[{"b":2},{}]}"#).unwrap();
        assert_eq!(ok.one.a, Some(1));
        assert_eq!(ok.maybe, None);
        assert_eq!(ok.many.len(), 2);
        let absent: Outer = serde_json::from_str("{}").unwrap();
        assert_eq!(absent, Outer::default());
        for bad in [
            r#"{"one":[1,2]}"#,
            r#"{"maybe":[null,null]}"#,
            r#"{"many":[[1]]}"#,
            r#"{"many":{"a":1}}"#,
            r#"{"one":{"a":1,"c":2}}"#,
        ] {
            let refused = serde_json::from_str::<Outer>(bad);
            assert!(refused.is_err(), "{bad} was accepted: {refused:?}");
        }
    }
}
