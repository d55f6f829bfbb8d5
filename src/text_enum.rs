//! Statuses and kinds that are stored and sent as text: one declaration gives the enum, its
//! text (`as_str`, `Display`, serde), `parse`, `ALL`, and `TryFrom<String>` for reading a
//! column with `#[sqlx(try_from = "String")]`.

/// `text_enum! { /// doc  pub enum Status { Pending = "pending", Done = "done" } }`
#[macro_export]
macro_rules! text_enum {
    (@unit $x:ident) => { () };
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: [$name; <[()]>::len(&[$($crate::text_enum!(@unit $variant)),+])] = [$($name::$variant),+];
            /// The texts, in the order declared (a record's choice of them).
            pub const TEXTS: [&'static str; <[()]>::len(&[$($crate::text_enum!(@unit $variant)),+])] = [$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $name::parse(&s).ok_or_else(|| format!(concat!("not a ", stringify!($name), ": {}"), s))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::text_enum! {
        /// A test of the declaration.
        pub enum Light {
            /// Stop.
            Red = "red",
            GreenArrow = "green_arrow",
        }
    }

    #[test]
    fn text_goes_both_ways_and_stays_as_declared() {
        for l in Light::ALL {
            assert_eq!(Light::parse(l.as_str()), Some(l));
            assert_eq!(serde_json::to_value(l).unwrap(), serde_json::Value::from(l.as_str()));
            assert_eq!(Light::try_from(l.to_string()), Ok(l));
        }
        assert_eq!(Light::ALL.len(), 2);
        assert_eq!(Light::TEXTS, ["red", "green_arrow"], "the texts as declared, for a record's choice");
        assert_eq!(Light::GreenArrow.as_str(), "green_arrow");
        assert!(Light::parse("blue").is_none() && Light::try_from("blue".to_string()).is_err());
    }
}
