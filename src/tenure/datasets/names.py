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
