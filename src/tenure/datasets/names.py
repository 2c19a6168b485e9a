"""Given names, family names and company names for generated demo people (not real data)."""

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily "
    "Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa "
    "Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan "
    "Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen "
    "Brenda Larry Pamela Justin Emma Scott Nicole Brandon Helen Benjamin Samantha Samuel "
    "Katherine Gregory Christine Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet "
    "Jack Catherine Dennis Maria Jerry Heather Tyler Diane Aaron Ruth Jose Julie Adam "
    "Olivia Nathan Joyce Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle "
    "Christina Noah Joan Ethan Evelyn Jeremy Judith Walter Megan Christian Andrea Keith "
    "Cheryl Roger Hannah Terry Jacqueline Austin Martha Sean Gloria Gerald Teresa Carl Ann "
    "Harold Sara Dylan Madison Arthur Frances Lawrence Kathryn Jordan Janice Jesse Jean "
    "Bryan Abigail Billy Alice Bruce Judy Gabriel Sophia Joe Grace Logan Denise Alan Amber "
    "Juan Doris Albert Marilyn Willie Danielle Elijah Beverly Wayne Isabella Randy Theresa "
    "Vincent Diana Mason Natalie Roy Brittany Ralph Charlotte Bobby Marie Russell Kayla "
    "Bradley Alexis Philip Lori Eugene Aiko Mateo Priya Chen Fatima Omar Ingrid Lars Sofia "
    "Luca Amara Kenji"
).split()

LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell "
    "Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes "
    "Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson "
    "Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
    "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross "
    "Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson "
    "Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton "
    "Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis "
    "Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez "
    "McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman "
    "Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon "
    "Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox "
    "Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver "
    "Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Hansen Larsen "
    "Tanaka Okafor Schneider Rossi"
).split()

COMPANY_NAMES = (
    "Acme Records",
    "Bluebird Media",
    "Cedar Hall Events",
    "Delta Sound Studios",
    "Echo Park Cafe",
    "Fairview Library",
    "Granite Radio",
    "Harbor Lights Hotel",
    "Ivy Lane School of Music",
    "Juniper Theatre",
    "Kestrel Airlines Lounge",
    "Lakeside Gym",
    "Maple Street Diner",
    "Northwind Retail",
    "Orchard Dance Academy",
    "Pine Ridge Resort",
    "Quarry Bay Bookstore",
    "Riverbend Clinic",
    "Summit Fitness",
    "Tidewater Marina",
    "Union Square Bar",
    "Valley Wedding Planners",
    "Willow Creek Spa",
    "Yellowstone Outfitters",
    "Zephyr Coffee Roasters",
    "Atlas Hotels",
    "Beacon Church Choir",
    "Copperline Salons",
    "Driftwood Restaurants",
    "Evergreen Senior Living",
)

MUSIC_CATEGORIES = (
    ("Rock", 0.24),
    ("Pop", 0.2),
    ("Jazz", 0.1),
    ("Classical", 0.1),
    ("Country", 0.09),
    ("R&B", 0.08),
    ("Hip-hop", 0.07),
    ("Electronic", 0.05),
    ("Folk", 0.04),
    ("Soundtracks", 0.03),
)

# FIRST_NAMES alternates a man's and a woman's name (the order of the US lists it follows).
MALE_FIRST_NAMES = FIRST_NAMES[0::2]
FEMALE_FIRST_NAMES = FIRST_NAMES[1::2]

# Everyday short forms a customer may type instead of the name on the first record.
NICKNAMES = {
    "James": ("Jim", "Jimmy", "Jamie"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "John": ("Jack", "Johnny"),
    "Michael": ("Mike", "Mick"),
    "David": ("Dave",),
    "William": ("Bill", "Will", "Billy"),
    "Richard": ("Rick", "Dick", "Rich"),
    "Joseph": ("Joe", "Joey"),
    "Thomas": ("Tom", "Tommy"),
    "Charles": ("Charlie", "Chuck"),
    "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Anthony": ("Tony",),
    "Steven": ("Steve",),
    "Andrew": ("Andy", "Drew"),
    "Joshua": ("Josh",),
    "Kenneth": ("Ken", "Kenny"),
    "Timothy": ("Tim",),
    "Ronald": ("Ron",),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Jeffrey": ("Jeff",),
    "Nicholas": ("Nick",),
    "Jonathan": ("Jon",),
    "Benjamin": ("Ben",),
    "Samuel": ("Sam",),
    "Gregory": ("Greg",),
    "Alexander": ("Alex",),
    "Patrick": ("Pat", "Paddy"),
    "Patricia": ("Pat", "Patty", "Trish"),
    "Jennifer": ("Jen", "Jenny"),
    "Elizabeth": ("Liz", "Beth", "Betty"),
    "Barbara": ("Barb",),
    "Susan": ("Sue", "Susie"),
    "Jessica": ("Jess",),
    "Margaret": ("Maggie", "Peggy"),
    "Deborah": ("Deb", "Debbie"),
    "Rebecca": ("Becky",),
    "Stephanie": ("Steph",),
    "Catherine": ("Cathy", "Kate"),
    "Katherine": ("Kate", "Kathy", "Katie"),
    "Christina": ("Tina", "Chris"),
    "Samantha": ("Sam",),
    "Victoria": ("Vicky", "Tori"),
    "Abigail": ("Abby",),
    "Isabella": ("Bella",),
    "Kimberly": ("Kim",),
    "Pamela": ("Pam",),
    "Judith": ("Judy",),
    "Frances": ("Fran",),
    "Dorothy": ("Dot",),
}

STREET_NAMES = (
    "Maple Oak Cedar Pine Elm Willow Birch Chestnut Walnut Spruce Aspen Hickory Magnolia "
    "Lake Hill River Park Meadow Forest Valley Spring Sunset Highland Ridge Orchard Garden "
    "Church Mill School Station Market Bridge Harbor Prospect Union Liberty Franklin "
    "Washington Lincoln Jefferson Madison Jackson Adams Monroe Grant Hamilton Warren "
    "Fairview Greenwood Riverside Lakeview Woodland Cherry Laurel Holly Poplar Sycamore"
).split()
STREET_TYPES = ("Street", "Avenue", "Road", "Lane", "Drive", "Court", "Place", "Way")

# City, state, the first three digits of its ZIP codes, and a relative size.
CITIES = (
    ("Springfield", "IL", "627", 5),
    ("Portland", "OR", "972", 8),
    ("Madison", "WI", "537", 5),
    ("Columbus", "OH", "432", 9),
    ("Austin", "TX", "787", 9),
    ("Denver", "CO", "802", 8),
    ("Raleigh", "NC", "276", 6),
    ("Richmond", "VA", "232", 5),
    ("Boise", "ID", "837", 3),
    ("Albany", "NY", "122", 4),
    ("Brooklyn", "NY", "112", 12),
    ("Seattle", "WA", "981", 9),
    ("Tucson", "AZ", "857", 5),
    ("Omaha", "NE", "681", 4),
    ("Nashville", "TN", "372", 6),
    ("Savannah", "GA", "314", 3),
    ("Burlington", "VT", "054", 2),
    ("Ann Arbor", "MI", "481", 3),
    ("Berkeley", "CA", "947", 4),
    ("Pasadena", "CA", "911", 5),
    ("Salem", "MA", "019", 3),
    ("Lexington", "KY", "405", 4),
    ("Santa Fe", "NM", "875", 2),
    ("Charleston", "SC", "294", 3),
)
