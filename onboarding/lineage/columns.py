"""What the lineage picture reads of the topics around the centre, and how it names one the viewer may not see."""

PRIVATE = "a private topic"
# A topic node shows and checks the topic's name, visibility and team, and nothing else: the picture's queries
# load only these columns, because building whole rows of four models cost the ORM more than the statement
# cost the database.
TOPIC_COLUMNS = ("name", "visibility", "team__slug")
